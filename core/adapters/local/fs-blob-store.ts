import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlobNotFoundError,
  type Blob,
  type BlobStore,
  type SignedUrl,
} from '../../ports/blob-store.ts';
import { signFile } from './file-signature.ts';
import { atBoundary, errnoOf, isSafeSegment, readJson, writeFileAtomic } from './fs-files.ts';

export interface FsBlobStoreOptions {
  /** Blobs live at `{root}/{key}`; their content types in `{root}/.meta/{key}.json`. */
  readonly root: string;
  /** The local API's origin, e.g. `http://127.0.0.1:8080` (no trailing slash needed). */
  readonly baseUrl: string;
  /** HMAC secret for signed URLs; the API verifies with verifyFileSignature and the same one. */
  readonly signingSecret: string;
}

/** Keys are slash-separated safe segments, so no key can reach outside the root or into .meta. */
function isSafeKey(key: string): boolean {
  return key.split('/').every(isSafeSegment);
}

/**
 * BlobStore in a local folder. Files are written atomically (temp + rename); URLs point at the
 * local API's `/v1/files/{key}` with an expiry and an HMAC over both.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #baseUrl: string;
  readonly #secret: string;

  constructor(options: FsBlobStoreOptions) {
    this.#root = options.root;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#secret = options.signingSecret;
  }

  put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    return atBoundary(async () => {
      const { data, meta } = this.#paths(key);
      await writeFileAtomic(data, bytes);
      await writeFileAtomic(meta, JSON.stringify({ contentType }));
    });
  }

  get(key: string): Promise<Blob> {
    return atBoundary(async () => {
      if (!isSafeKey(key)) throw new BlobNotFoundError(`no blob ${key}`);
      const { data, meta } = this.#paths(key);
      let bytes: Buffer;
      try {
        bytes = await readFile(data);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') throw new BlobNotFoundError(`no blob ${key}`);
        throw error;
      }
      const stored = (await readJson(meta)) as { contentType?: string } | undefined;
      return {
        bytes: new Uint8Array(bytes),
        contentType: stored?.contentType ?? 'application/octet-stream',
      };
    });
  }

  signedUrl(key: string, expiresInSeconds: number): Promise<SignedUrl> {
    const expires = Math.floor(Date.now() / 1000) + expiresInSeconds;
    const path = key.split('/').map(encodeURIComponent).join('/');
    const sig = signFile(this.#secret, key, expires);
    return Promise.resolve({
      url: `${this.#baseUrl}/v1/files/${path}?expires=${expires}&sig=${sig}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    });
  }

  delete(key: string): Promise<void> {
    return atBoundary(async () => {
      if (!isSafeKey(key)) return;
      const { data, meta } = this.#paths(key);
      for (const path of [data, meta]) {
        await unlink(path).catch((error: unknown) => {
          if (errnoOf(error) !== 'ENOENT') throw error;
        });
      }
    });
  }

  #paths(key: string): { data: string; meta: string } {
    if (!isSafeKey(key)) throw new RangeError(`unsafe blob key: ${key}`);
    return { data: join(this.#root, key), meta: join(this.#root, '.meta', `${key}.json`) };
  }
}
