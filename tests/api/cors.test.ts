import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/config.ts';
import { corsOriginsFromEnv } from '../../functions/api/middleware/cors.ts';
import { makeApi } from './harness.ts';
import { expectProblem } from './support.ts';

const APP = 'https://app.example.com';
const GEN = '/v1/generations';

function preflight(origin: string, path = GEN) {
  return {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
    path,
  };
}

describe('CORS (DITSERVE_CORS_ORIGINS)', () => {
  it('is off by default: no CORS header on answers, no preflight answered', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'GET', '/v1/models', undefined, { origin: APP });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const { path, ...init } = preflight(APP);
    const answer = await api.app.request(path, init);
    expect(answer.status).not.toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for a listed origin before authentication (it carries no key)', async () => {
    const api = await makeApi({ corsOrigins: [APP] });
    const { path, ...init } = preflight(APP);
    const response = await api.app.request(path, init);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(',');
    expect(allowed).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'idempotency-key']),
    );
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('gives other origins nothing to read', async () => {
    const api = await makeApi({ corsOrigins: [APP] });
    const { path, ...init } = preflight('https://evil.example.net');
    const answer = await api.app.request(path, init);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    const response = await api.call(api.alice, 'GET', '/v1/models', undefined, {
      origin: 'https://evil.example.net',
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes the headers a browser client needs, on successes and on errors', async () => {
    const api = await makeApi({
      corsOrigins: [APP],
      limits: { requestsPerSecond: 0.001, burst: 2 },
    });
    const created = await api.call(
      api.alice,
      'POST',
      GEN,
      { prompt: 'a red circle' },
      { origin: APP },
    );
    expect(created.status).toBe(202);
    expect(created.headers.get('access-control-allow-origin')).toBe(APP);
    const exposed = (created.headers.get('access-control-expose-headers') ?? '').split(',');
    expect(exposed).toEqual(
      expect.arrayContaining([
        'retry-after',
        'ratelimit',
        'ratelimit-policy',
        'location',
        'x-request-id',
        'idempotent-replayed',
      ]),
    );
    // Every exposed header the answer has is one the browser may now read.
    for (const name of ['location', 'ratelimit', 'ratelimit-policy', 'x-request-id']) {
      expect(created.headers.get(name), name).toBeTruthy();
    }

    // A 401 and a 429 are readable too: the headers survive the error path.
    const unauthorized = await api.call(undefined, 'GET', '/v1/models', undefined, { origin: APP });
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe(APP);
    await expectProblem(unauthorized, 401, 'unauthorized');
    expect((await api.call(api.alice, 'GET', GEN, undefined, { origin: APP })).status).toBe(200);
    const limited = await api.call(api.alice, 'GET', GEN, undefined, { origin: APP });
    expect(limited.headers.get('access-control-allow-origin')).toBe(APP);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    await expectProblem(limited, 429, 'rate_limited');
  });

  it('`*` lets any origin in', async () => {
    const api = await makeApi({ corsOrigins: '*' });
    const response = await api.call(api.alice, 'GET', '/v1/models', undefined, {
      origin: 'http://localhost:5173',
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('corsOriginsFromEnv', () => {
  const read = (value: string | undefined) => corsOriginsFromEnv({ DITSERVE_CORS_ORIGINS: value });

  it('reads unset and empty as off, * as any, else a list of origins', () => {
    expect(read(undefined)).toBeUndefined();
    expect(read('')).toBeUndefined();
    expect(read(' , ')).toBeUndefined();
    expect(read('*')).toBe('*');
    expect(read('https://app.example.com, http://localhost:5173')).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp:x'])(
    'refuses %s at start-up, naming the variable',
    (value) => {
      expect(() => read(value)).toThrow(ConfigError);
      expect(() => read(value)).toThrow(/DITSERVE_CORS_ORIGINS/);
    },
  );
});
