import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ApiEnv } from '../../functions/api/hono-env.ts';
import { rateLimit } from '../../functions/api/middleware/rate-limit.ts';
import { problemResponse } from '../../functions/api/problem.ts';
import { makeApi } from './harness.ts';

/** The middleware alone, on a clock the test moves. */
function limited(perSecond: number, burst: number) {
  const clock = { ms: 1_000_000 };
  const app = new Hono<ApiEnv>();
  app.use('*', async (c, next) => {
    c.set('tenant', c.req.header('x-tenant') ?? 'alice');
    c.set('requestId', 'req-test-0001');
    await next();
  });
  app.use(
    '*',
    rateLimit(perSecond, burst, () => clock.ms),
  );
  app.get('/x', (c) => c.text('ok'));
  app.onError((error, c) => problemResponse(c, error, 'req-test-0001'));
  return {
    clock,
    call: (tenant = 'alice') => app.request('/x', { headers: { 'x-tenant': tenant } }),
  };
}

/** `"tenant";r=19;t=1` → { r: 19, t: 1 } (RFC 8941 parameters of one list member). */
function fields(value: string | null): Record<string, number> {
  const [name, ...params] = (value ?? '').split(';');
  expect(name).toBe('"tenant"');
  return Object.fromEntries(
    params.map((p): [string, number] => {
      const [key = '', value] = p.split('=');
      return [key, Number(value)];
    }),
  );
}

describe('rate-limit headers (IETF RateLimit-Policy and RateLimit fields)', () => {
  it('describe the one token bucket: quota = burst, remaining counts down from it', async () => {
    const { call } = limited(10, 20);
    const first = await call();
    expect(first.status).toBe(200);
    expect(fields(first.headers.get('ratelimit-policy'))).toEqual({ q: 20, w: 2 });
    expect(fields(first.headers.get('ratelimit'))).toEqual({ r: 19, t: 1 });
    // The old pair that contradicted each other (limit 10, remaining 19) is gone.
    expect(first.headers.get('x-ratelimit-limit')).toBeNull();
    expect(first.headers.get('x-ratelimit-remaining')).toBeNull();
    for (let i = 18; i >= 0; i--) {
      const response = await call();
      expect(response.status).toBe(200);
      const { r, t } = fields(response.headers.get('ratelimit'));
      expect(r).toBe(i);
      // Seconds until the bucket is full again: the used tokens at 10 per second.
      expect(t).toBe(Math.ceil((20 - i) / 10));
    }
  });

  it('429 with remaining 0 and a Retry-After when one token will be back', async () => {
    const { clock, call } = limited(2, 3);
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const refused = await call();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(fields(refused.headers.get('ratelimit'))).toEqual({ r: 0, t: 2 });
    expect(fields(refused.headers.get('ratelimit-policy'))).toEqual({ q: 3, w: 2 });
    // Half a second later one token (2/s) is back: exactly one request passes.
    clock.ms += 500;
    const again = await call();
    expect(again.status).toBe(200);
    expect(fields(again.headers.get('ratelimit')).r).toBe(0);
    expect((await call()).status).toBe(429);
    // Another tenant has its own bucket.
    expect(fields((await call('bob')).headers.get('ratelimit')).r).toBe(2);
  });

  it('refills to the burst and no further', async () => {
    const { clock, call } = limited(10, 20);
    await call();
    clock.ms += 60_000;
    expect(fields((await call()).headers.get('ratelimit'))).toEqual({ r: 19, t: 1 });
  });

  it('are on the answers of the whole authenticated API, not on public routes', async () => {
    const api = await makeApi();
    const models = await api.call(api.alice, 'GET', '/v1/models');
    expect(fields(models.headers.get('ratelimit-policy'))).toEqual({ q: 20, w: 2 });
    expect(fields(models.headers.get('ratelimit')).r).toBe(19);
    expect((await api.call(undefined, 'GET', '/healthz')).headers.get('ratelimit')).toBeNull();
  });
});
