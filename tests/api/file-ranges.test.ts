import { describe, expect, it } from 'vitest';
import type { FileServing } from '../../functions/api/deps.ts';
import { byteRange } from '../../functions/api/services/byte-range.ts';
import { makeApi } from './harness.ts';

/**
 * Range requests on the local file route: Chromium seeks in an MP4 only when its server answers
 * ranges (S3's presigned URLs do), so the embedded stack must too.
 */
describe('GET /v1/files/{key} with Range', () => {
  // Signatures have their own tests (public-routes.test.ts); here every URL is valid.
  const files: FileServing = { verify: () => true };
  const KEY = 'jobs/tenant-alice/gen_01ABC/out/0.mp4';
  const BYTES = Uint8Array.from({ length: 100 }, (_, i) => i);
  const PATH = `/v1/files/${KEY}?expires=9999999999&sig=x`;

  async function get(range?: string) {
    const api = await makeApi({ files });
    await api.blobs.put(KEY, BYTES, 'video/mp4');
    return api.call(undefined, 'GET', PATH, undefined, range === undefined ? {} : { range });
  }

  const body = async (response: Response) => [...new Uint8Array(await response.arrayBuffer())];

  it('without Range: the whole file, and says that ranges are accepted', async () => {
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(await body(response)).toEqual([...BYTES]);
  });

  it.each([
    ['bytes=10-19', 10, 19],
    ['bytes=90-', 90, 99],
    ['bytes=0-', 0, 99],
    ['bytes=-5', 95, 99],
    // Past the end: cut to the file (RFC 9110 §14.1.2).
    ['bytes=95-1000', 95, 99],
    ['bytes=-1000', 0, 99],
  ])('%s: 206 with Content-Range and exactly those bytes', async (range, start, end) => {
    const response = await get(range);
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/100`);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-length')).toBe(String(end - start + 1));
    expect(await body(response)).toEqual([...BYTES.subarray(start, end + 1)]);
  });

  it.each(['bytes=100-', 'bytes=500-600', 'bytes=-0'])(
    '%s: 416 with the size in Content-Range',
    async (range) => {
      const response = await get(range);
      expect(response.status).toBe(416);
      expect(response.headers.get('content-range')).toBe('bytes */100');
    },
  );

  it.each(['items=0-5', 'bytes=0-5,10-15', 'bytes=20-10', 'bytes=-', 'bytes=abc'])(
    '%s: ignored, the whole file as 200 (the RFC lets a server ignore what it does not serve)',
    async (range) => {
      const response = await get(range);
      expect(response.status).toBe(200);
      expect(await body(response)).toEqual([...BYTES]);
    },
  );

  it('an empty file has no satisfiable range', () => {
    expect(byteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(byteRange('bytes=-1', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(byteRange(undefined, 0)).toEqual({ kind: 'whole' });
  });
});
