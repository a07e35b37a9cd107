import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BlobNotFoundError,
  type Blob,
  type BlobStore,
  type SignedUrl,
} from '../../ports/blob-store.ts';
import { atAwsBoundary, isNotFound } from './aws-errors.ts';
import { normalizePrefix } from './s3-objects.ts';

/** S3-managed keys (SSE-S3), or a KMS key (SSE-KMS; readers then need kms:Decrypt). */
export type ServerSideEncryption =
  | { readonly kind: 'AES256' }
  | { readonly kind: 'aws:kms'; readonly kmsKeyId?: string | undefined };

export interface S3BlobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key; none by default. */
  readonly prefix?: string | undefined;
  /** AES256 by default. */
  readonly serverSideEncryption?: ServerSideEncryption | undefined;
  /**
   * Signs URLs; defaults to `client`. A separate client lets presigned URLs name a public
   * endpoint when the service itself talks to S3 through a private one.
   */
  readonly presignClient?: S3Client | undefined;
  /**
   * Object tags on every blob (`k=v&k2=v2`). The stack's lifecycle rule expires objects tagged
   * `ditserve:expiry=output` after the output retention: S3 rules match prefixes only, not `jobs/{tenant}/{id}/out/`.
   */
  readonly tagging?: string | undefined;
}

/** SigV4 presigned URLs live at most 7 days. */
const MAX_PRESIGN_SECONDS = 604_800;

/** BlobStore on S3: encrypted at rest, content type kept, presigned GETs for downloads. */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #presign: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #sse: ServerSideEncryption;
  readonly #tagging: string | undefined;

  constructor(options: S3BlobStoreOptions) {
    this.#client = options.client;
    this.#presign = options.presignClient ?? options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix);
    this.#sse = options.serverSideEncryption ?? { kind: 'AES256' };
    this.#tagging = options.tagging;
  }

  put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    return atAwsBoundary('storing a blob', async () => {
      const input: PutObjectCommandInput = {
        Bucket: this.#bucket,
        Key: this.#prefix + key,
        Body: bytes,
        ContentType: contentType,
        ...(this.#tagging ? { Tagging: this.#tagging } : {}),
        ServerSideEncryption: this.#sse.kind,
        ...(this.#sse.kind === 'aws:kms' && this.#sse.kmsKeyId
          ? { SSEKMSKeyId: this.#sse.kmsKeyId }
          : {}),
      };
      await this.#client.send(new PutObjectCommand(input));
    });
  }

  get(key: string): Promise<Blob> {
    return atAwsBoundary('reading a blob', async () => {
      try {
        const res = await this.#client.send(
          new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
        );
        return {
          bytes: (await res.Body?.transformToByteArray()) ?? new Uint8Array(),
          contentType: res.ContentType ?? 'application/octet-stream',
        };
      } catch (error) {
        if (isNotFound(error)) throw new BlobNotFoundError(`no blob ${key}`, { cause: error });
        throw error;
      }
    });
  }

  signedUrl(key: string, expiresInSeconds: number): Promise<SignedUrl> {
    return atAwsBoundary('signing a blob URL', async () => {
      const expiresIn = Math.max(1, Math.min(Math.floor(expiresInSeconds), MAX_PRESIGN_SECONDS));
      const signedAt = Date.now();
      const url = await getSignedUrl(
        this.#presign,
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
        { expiresIn },
      );
      return { url, expiresAt: new Date(signedAt + expiresIn * 1000).toISOString() };
    });
  }

  delete(key: string): Promise<void> {
    return atAwsBoundary('deleting a blob', async () => {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#prefix + key }),
      );
    });
  }
}
