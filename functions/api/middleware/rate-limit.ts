import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../hono-env.ts';
import { RateLimitedError } from '../errors.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per tenant: `perSecond` sustained, `burst` at once. It lives in this process
 * (one Lambda instance, or the local server); the deployment's front door throttles globally.
 */
export function rateLimit(
  perSecond: number,
  burst: number,
  now: () => number = Date.now,
): MiddlewareHandler<ApiEnv> {
  const buckets = new Map<string, Bucket>();
  return async function rateLimitMiddleware(c, next) {
    const tenant = c.get('tenant');
    const t = now();
    const bucket = buckets.get(tenant) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    buckets.set(tenant, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      throw new RateLimitedError(
        'rate_limited',
        `more than ${perSecond} requests/s (burst ${burst}) for this tenant`,
        retryAfter,
      );
    }
    bucket.tokens -= 1;
    c.header('x-ratelimit-limit', String(perSecond));
    c.header('x-ratelimit-remaining', String(Math.floor(bucket.tokens)));
    await next();
  };
}
