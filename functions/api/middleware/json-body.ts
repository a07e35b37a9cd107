import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../env.ts';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = request.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

/**
 * For routes with a JSON body: 415 unless Content-Type is JSON, 413 above `maxBytes` (checked on
 * the bytes read, not only Content-Length), 400 for JSON that does not parse. The parsed body is
 * text is left in Hono's body cache, where the zod validator reads it.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return async function jsonBodyMiddleware(c, next) {
    const type = c.req.header('content-type') ?? '';
    if (!JSON_TYPE.test(type)) {
      throw new UnsupportedMediaTypeError(
        `Content-Type must be application/json${type ? `, got ${type.split(';')[0] ?? type}` : ''}`,
      );
    }
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
    }
    const text = await readLimited(c.req.raw, maxBytes);
    try {
      JSON.parse(text);
    } catch (error) {
      throw new MalformedJsonError(`the body is not valid JSON: ${(error as Error).message}`);
    }
    // Hono's json() parses the cached text again: cheap next to a round trip, and keeps one path.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    await next();
  };
}
