import { DitserveError } from '../errors.ts';

export class BlobNotFoundError extends DitserveError {
  readonly code = 'blob_not_found';
}

export interface Blob {
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

export interface SignedUrl {
  readonly url: string;
  readonly expiresAt: string;
}

/**
 * Where output images live: S3 on AWS (presigned GETs, server-side encryption), a folder locally
 * (served by the local API behind signed, expiring URLs). Keys (gpu-worker/src/worker/outputs.ts):
 * `jobs/{tenant}/{jobId}/out/{n}.{ext}`.
 */
export interface BlobStore {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Blob>;
  /** A URL anyone holding it can GET until it expires. */
  signedUrl(key: string, expiresInSeconds: number): Promise<SignedUrl>;
  delete(key: string): Promise<void>;
}
