import {
  BlobNotFoundError,
  type Blob,
  type BlobStore,
  type SignedUrl,
} from '../../ports/blob-store.ts';

/** BlobStore in process memory; its URLs (`memory://key?expires=`) only mean something to tests. */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, Blob>();

  put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    this.#blobs.set(key, { bytes: Uint8Array.from(bytes), contentType });
    return Promise.resolve();
  }

  get(key: string): Promise<Blob> {
    const blob = this.#blobs.get(key);
    if (!blob) return Promise.reject(new BlobNotFoundError(`no blob ${key}`));
    return Promise.resolve({ bytes: Uint8Array.from(blob.bytes), contentType: blob.contentType });
  }

  signedUrl(key: string, expiresInSeconds: number): Promise<SignedUrl> {
    const expires = Math.floor(Date.now() / 1000) + expiresInSeconds;
    return Promise.resolve({
      url: `memory://${key}?expires=${expires}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    });
  }

  delete(key: string): Promise<void> {
    this.#blobs.delete(key);
    return Promise.resolve();
  }
}
