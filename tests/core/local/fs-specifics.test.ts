import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { verifyFileSignature } from '../../../core/adapters/local/file-signature.ts';
import { FsBlobStore } from '../../../core/adapters/local/fs-blob-store.ts';
import { FsJobStore } from '../../../core/adapters/local/fs-job-store.ts';
import { FsMessageQueue } from '../../../core/adapters/local/fs-message-queue.ts';
import { BlobNotFoundError } from '../../../core/ports/blob-store.ts';
import { JobNotFoundError, StoreUnavailableError } from '../../../core/ports/job-store.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const root = await tempDir('ditserve-fs-specifics-');
const fresh = (): Promise<string> => mkdtemp(join(root, 'case-'));

describe('FsBlobStore signed URLs', () => {
  const key = 'jobs/t1/gen_1/out/0.png';

  async function signed(): Promise<{ expires: string; sig: string; url: URL }> {
    const store = new FsBlobStore({
      root: await fresh(),
      baseUrl: 'http://127.0.0.1:8080/',
      signingSecret: 's3cret',
    });
    const url = new URL((await store.signedUrl(key, 60)).url);
    return {
      url,
      expires: url.searchParams.get('expires') ?? '',
      sig: url.searchParams.get('sig') ?? '',
    };
  }

  it('points at the local API and verifies with the same secret until it expires', async () => {
    const { url, expires, sig } = await signed();
    expect(url.origin + url.pathname).toBe(`http://127.0.0.1:8080/v1/files/${key}`);
    expect(verifyFileSignature('s3cret', key, expires, sig)).toBe(true);
    const later = new Date((Number(expires) + 1) * 1000);
    expect(verifyFileSignature('s3cret', key, expires, sig, later)).toBe(false);
  });

  it('refuses another key, another expiry, another secret or a mangled signature', async () => {
    const { expires, sig } = await signed();
    expect(verifyFileSignature('s3cret', 'jobs/t2/gen_1/out/0.png', expires, sig)).toBe(false);
    expect(verifyFileSignature('s3cret', key, String(Number(expires) + 3600), sig)).toBe(false);
    expect(verifyFileSignature('other', key, expires, sig)).toBe(false);
    expect(verifyFileSignature('s3cret', key, expires, sig.slice(1))).toBe(false);
    expect(verifyFileSignature('s3cret', key, `${expires}.0`, sig)).toBe(false);
  });
});

describe('filesystem adapters keep callers inside their folder', () => {
  it('treats path tricks in ids and keys as not found', async () => {
    const dir = await fresh();
    const jobs = new FsJobStore({ root: dir });
    const blobs = new FsBlobStore({ root: dir, baseUrl: 'http://x', signingSecret: 's' });
    await expect(jobs.get('t1', '../../etc')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(jobs.get('..', 'x')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(blobs.get('../../etc/passwd')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(blobs.get('.meta/jobs/x.json')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(blobs.put('jobs/../../x', new Uint8Array(1), 'image/png')).rejects.toThrow(
      RangeError,
    );
  });

  it('reports an unusable data folder as StoreUnavailableError', async () => {
    const file = join(await fresh(), 'not-a-folder');
    await writeFile(file, 'x');
    await expect(new FsJobStore({ root: file }).ping()).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(new FsMessageQueue({ dir: file }).ping()).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});

describe('FsMessageQueue durability', () => {
  it('keeps waiting and in-flight messages across a restart', async () => {
    const dir = await fresh();
    const before = new FsMessageQueue<{ n: number }>({ dir });
    await before.send({ n: 1 });
    await before.send({ n: 2 });
    const [held] = await before.receive({ visibilitySeconds: 1 });
    // A new instance on the same folder is what a restarted process sees.
    const after = new FsMessageQueue<{ n: number }>({ dir });
    const [waiting] = await after.receive();
    expect(waiting?.body.n).not.toBe(held?.body.n);
    await delay(1100);
    const [back] = await after.receive();
    expect(back?.body).toEqual(held?.body);
    expect(back?.receiveCount).toBe(2);
  });
});
