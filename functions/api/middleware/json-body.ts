import type { MiddlewareHandler } from 'hono';
import { every } from 'hono/combine';
import type { ApiEnv } from '../hono-env.ts';
import {
  IncompleteBodyError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../errors.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * How much of an oversized body is read (and thrown away) before the 413 is sent. Clients such
 * as Python's urllib and requests write the whole body before they read anything: answering
 * and closing while they still send resets the connection, and they never see the answer.
 * Beyond this the connection is closed after the answer (a client sending that much is not
 * waiting for it).
 */
export const DRAIN_MAX_BYTES = 16 * 1024 * 1024;

const requireJsonType: MiddlewareHandler<ApiEnv> = async function requireJsonType(c, next) {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/json${type ? `, got ${type.split(';')[0] ?? type}` : ''}`,
    );
  }
  await next();
};

/** Reads and discards up to `budget` more bytes; a stream that fails meanwhile is just over. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number) {
  let left = budget;
  try {
    while (left > 0) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
  } catch {
    // The client went away while we drained: nobody is left to read the 413.
  } finally {
    // Beyond the budget: stop reading; the server closes the connection after the answer.
    void reader.cancel().catch(() => undefined);
  }
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
}

/**
 * The body's bytes, at most `maxBytes` (413 above, on Content-Length when there is one, else on
 * the bytes read), after draining what is left of an oversized one up to DRAIN_MAX_BYTES so the
 * client reads the answer. A body that ends before its Content-Length, or a client that goes away
 * while sending, is the client's fault (400 incomplete_body), not an error of ours.
 */
export async function readLimitedBytes(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = request.headers.get('content-length');
  const length = declared === null ? undefined : Number(declared);
  const stream = request.body;
  if (!stream) return Buffer.alloc(0);
  const reader: ReadableStreamDefaultReader<Uint8Array> = stream.getReader();
  if (length !== undefined && length > maxBytes) {
    if (length <= DRAIN_MAX_BYTES) await drain(reader, length);
    else void reader.cancel().catch(() => undefined);
    throw tooLarge(maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await drain(reader, DRAIN_MAX_BYTES - total);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new IncompleteBodyError(
      `the body ended after ${total} bytes${length === undefined ? '' : ` of the ${length} promised by Content-Length`}`,
      { cause: error },
    );
  }
  if (length !== undefined && total < length) {
    throw new IncompleteBodyError(`the body ended after ${total} of ${length} bytes`);
  }
  return Buffer.concat(chunks);
}

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  const bytes = await readLimitedBytes(request, maxBytes);
  // JSON is UTF-8 (RFC 8259 §8.1): refuse other bytes instead of reading them as U+FFFD.
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new MalformedJsonError('the body is not valid UTF-8');
  }
}

function limitedJson(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return async function limitedJson(c, next) {
    const text = await readLimited(c.req.raw, maxBytes);
    try {
      JSON.parse(text);
    } catch (error) {
      throw new MalformedJsonError(`the body is not valid JSON: ${(error as Error).message}`);
    }
    // Hono's body cache, where the zod validator's json() reads the text (the stream is spent).
    (c.req.bodyCache as Record<string, Promise<unknown>>).text = Promise.resolve(text);
    await next();
  };
}

/**
 * For routes with a JSON body: 415 unless Content-Type is JSON, 413 above `maxBytes` (read by
 * the client: see DRAIN_MAX_BYTES), 400 for a body cut short, 400 for JSON that does not parse.
 * All answer problem+json through the app's onError.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return every(requireJsonType, limitedJson(maxBytes));
}
