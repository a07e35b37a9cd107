import { expect, it } from 'vitest';
import { BlobNotFoundError, type BlobStore } from '../../../core/ports/blob-store.ts';

/** The behaviour every BlobStore adapter must show; fetching a signed URL is adapter-specific. */
export function blobStoreContract(makeStore: () => Promise<BlobStore> | BlobStore): void {
  const key = 'jobs/t1/gen_1/out/0.png';
  const bytes = Uint8Array.from([137, 80, 78, 71, 0, 255, 1, 2]);

  it('stores bytes and content type under a nested key and reads them back', async () => {
    const store = await makeStore();
    await store.put(key, bytes, 'image/png');
    const blob = await store.get(key);
    expect(Buffer.from(blob.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(blob.contentType).toBe('image/png');
  });

  it('replaces a blob written again under the same key', async () => {
    const store = await makeStore();
    await store.put(key, bytes, 'image/png');
    await store.put(key, Uint8Array.from([1]), 'image/webp');
    const blob = await store.get(key);
    expect([...blob.bytes]).toEqual([1]);
    expect(blob.contentType).toBe('image/webp');
  });

  it('reports a missing blob as BlobNotFoundError', async () => {
    const store = await makeStore();
    await expect(store.get('jobs/t1/none/out/0.png')).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('deletes, and deleting what is not there is not an error', async () => {
    const store = await makeStore();
    await store.put(key, bytes, 'image/png');
    await store.delete(key);
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it('signs a URL for the key that expires when asked', async () => {
    const store = await makeStore();
    await store.put(key, bytes, 'image/png');
    const before = Date.now();
    const signed = await store.signedUrl(key, 600);
    expect(signed.url).toContain('0.png');
    const expiresAt = Date.parse(signed.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 598_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 601_000);
  });
}
