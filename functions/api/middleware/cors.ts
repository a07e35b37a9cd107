import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { ConfigError, readOptional } from '../../../core/config.ts';
import { SETTINGS } from '../../../core/settings.ts';
import type { ApiEnv } from '../hono-env.ts';

/** Browser origins allowed to call the API: any (`*`) or these exact origins. */
export type CorsOrigins = '*' | readonly string[];

/**
 * What a browser client must be able to read: the rate-limit fields and Retry-After to back off,
 * Location of a new generation, the request id to quote in a bug report, and the replay and
 * wait answers of POST /v1/generations.
 */
const EXPOSED = [
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
  'location',
  'x-request-id',
  'idempotent-replayed',
  'preference-applied',
  'x-ditserve-generation-id',
];

/** What the API reads from a request besides the CORS-safelisted headers. */
const ALLOWED = [
  'authorization',
  'content-type',
  'idempotency-key',
  'prefer',
  'last-event-id',
  'x-request-id',
];

/**
 * DITSERVE_CORS_ORIGINS: unset or empty is off (no CORS headers; browsers keep other origins
 * out), `*` is any origin, else comma-separated origins such as `https://app.example.com`. A
 * value that is not an origin is refused at start-up rather than never matching.
 */
export function corsOriginsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): CorsOrigins | undefined {
  const raw = readOptional(env, SETTINGS.corsOrigins);
  if (raw === undefined) return undefined;
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  if (entries.includes('*')) return '*';
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== entry) {
      throw new ConfigError(
        `${SETTINGS.corsOrigins.env} must be * or comma-separated origins like https://app.example.com (scheme, host, port; no path), got "${entry}"`,
      );
    }
  }
  return entries;
}

/**
 * Hono's CORS middleware with ditserve's headers. Registered before authentication, so a
 * preflight (OPTIONS, which carries no key) is answered here; the headers it sets stay on every
 * response, errors included, so a browser can read a 401 or a 429 problem.
 */
export function corsPolicy(origins: CorsOrigins): MiddlewareHandler<ApiEnv> {
  const handler = cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: ['GET', 'HEAD', 'POST'],
    allowHeaders: ALLOWED,
    exposeHeaders: EXPOSED,
    maxAge: 600,
  });
  return async function corsMiddleware(c, next) {
    return handler(c, next);
  };
}
