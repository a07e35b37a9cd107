import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound } from './aws-errors.ts';

export interface JsonObject<V> {
  readonly value: V;
  readonly etag: string;
  /** The token of the write that stored it (see putJson), when it had one. */
  readonly writeToken?: string | undefined;
}

/** User metadata naming the write that stored an object. */
const WRITE_TOKEN = 'ditserve-write';

/** GETs and parses a JSON object with its ETag; undefined when there is no such key. */
export async function getJson<V>(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<JsonObject<V> | undefined> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await res.Body?.transformToString('utf8')) ?? '';
    return {
      value: JSON.parse(text) as V,
      etag: res.ETag ?? '',
      writeToken: res.Metadata?.[WRITE_TOKEN],
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export type WriteCondition = { readonly ifNoneMatch: '*' } | { readonly ifMatch: string };

/**
 * PUTs `value` as JSON under a condition; returns the new ETag. `writeToken`, stored as user
 * metadata, lets the writer recognise its own object later: the SDK retries a PUT whose answer
 * was lost with the very same request, and that retry meets a 412 from the write it made.
 */
export async function putJson(
  client: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  condition?: WriteCondition,
  writeToken?: string,
): Promise<string> {
  const input: PutObjectCommandInput = {
    Bucket: bucket,
    Key: key,
    Body: JSON.stringify(value),
    ContentType: 'application/json',
    ...(writeToken ? { Metadata: { [WRITE_TOKEN]: writeToken } } : {}),
    ...(condition && 'ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : {}),
    ...(condition && 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : {}),
  };
  const res = await client.send(new PutObjectCommand(input));
  return res.ETag ?? '';
}

/** `prefix` with exactly one trailing slash, or '' (keys then start at the bucket's root). */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}
