import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { every } from 'hono/combine';
import type { ApiEnv } from '../hono-env.ts';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

const requireJsonType: MiddlewareHandler<ApiEnv> = async function requireJsonType(c, next) {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/json${type ? `, got ${type.split(';')[0] ?? type}` : ''}`,
    );
  }
  await next();
};

const requireParsableJson: MiddlewareHandler<ApiEnv> = async function requireParsableJson(c, next) {
  // c.req.text() leaves the text in Hono's body cache, where the zod validator's json() reads it.
  const text = await c.req.text();
  try {
    JSON.parse(text);
  } catch (error) {
    throw new MalformedJsonError(`the body is not valid JSON: ${(error as Error).message}`);
  }
  await next();
};

/**
 * For routes with a JSON body: 415 unless Content-Type is JSON, 413 above `maxBytes` (Hono's
 * bodyLimit: on Content-Length when there is one, else on the bytes read), 400 for JSON that
 * does not parse. All three answer problem+json through the app's onError.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler<ApiEnv> {
  return every(
    requireJsonType,
    bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
      },
    }),
    requireParsableJson,
  );
}
