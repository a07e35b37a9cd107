import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../hono-env.ts';
import { RateLimitedError } from '../errors.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** The policy's name in the RateLimit fields: one bucket per tenant. */
const POLICY = '"tenant"';

/**
 * A token bucket per tenant: `perSecond` sustained, `burst` at once. It lives in this process
 * (one Lambda instance, or the local server); the deployment's front door throttles globally.
 *
 * Every answer it lets through, and its 429, carry the IETF RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers), all counting the same bucket so they cannot
 * contradict each other:
 * - `RateLimit-Policy: "tenant";q=<burst>;w=<seconds to refill an empty bucket>`
 * - `RateLimit: "tenant";r=<whole tokens left>;t=<seconds until the bucket is full again>`
 */
export function rateLimit(
  perSecond: number,
  burst: number,
  now: () => number = Date.now,
): MiddlewareHandler<ApiEnv> {
  const buckets = new Map<string, Bucket>();
  const policy = `${POLICY};q=${burst};w=${Math.max(1, Math.ceil(burst / perSecond))}`;
  return async function rateLimitMiddleware(c, next) {
    const tenant = c.get('tenant');
    const t = now();
    const bucket = buckets.get(tenant) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
    bucket.at = t;
    buckets.set(tenant, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const remaining = Math.floor(bucket.tokens);
    const untilFull = Math.ceil((burst - bucket.tokens) / perSecond);
    c.header('ratelimit-policy', policy);
    c.header('ratelimit', `${POLICY};r=${remaining};t=${untilFull}`);
    if (!allowed) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      throw new RateLimitedError(
        'rate_limited',
        `more than ${perSecond} requests/s (burst ${burst}) for this tenant`,
        retryAfter,
      );
    }
    await next();
  };
}
