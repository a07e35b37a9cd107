import { describe, expect, it } from 'vitest';
import { PUBLIC_ROUTES } from '../../functions/api/app.ts';
import { makeApi } from './harness.ts';
import { expectProblem } from './support.ts';

/** `/v1/generations/:id` → `/v1/generations/dummy-id` (also `:key{.+}` parameters). */
function concrete(pattern: string): string {
  return pattern.replace(/:(\w+)(?:\{[^}]*\})?/g, 'dummy-$1');
}

/** Whether a concrete path matches a public pattern (`/x/*` also matches `/x`, as in Hono). */
function matches(pattern: string, path: string): boolean {
  return pattern.endsWith('/*')
    ? path === pattern.slice(0, -2) || path.startsWith(pattern.slice(0, -1))
    : path === pattern;
}

const isPublic = (path: string): boolean => PUBLIC_ROUTES.some((p) => matches(p, path));

/** Every method and path that the app answers, straight from app.routes (middleware left out). */
async function everyRoute(): Promise<{ method: string; path: string }[]> {
  const { app } = await makeApi();
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    const path = concrete(route.path);
    seen.set(`${route.method} ${path}`, { method: route.method, path });
  }
  return [...seen.values()];
}

const routes = await everyRoute();
const tenantRoutes = routes.filter((r) => !isPublic(r.path));
const publicRoutes = routes.filter((r) => isPublic(r.path));

describe('every route needs a key unless it is listed as public (walks app.routes)', () => {
  it('finds the routes it walks', () => {
    // A guard against walking nothing: these are some of the routes there are.
    expect(tenantRoutes).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/v1/generations' },
        { method: 'GET', path: '/v1/generations/dummy-id' },
        { method: 'POST', path: '/v1/images/generations' },
        { method: 'GET', path: '/v1/models' },
        { method: 'GET', path: '/v1/webhooks/secret' },
      ]),
    );
    expect(publicRoutes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/healthz' },
        { method: 'GET', path: '/v1/files/dummy-key' },
      ]),
    );
  });

  it.each(tenantRoutes)('401 without a key: $method $path', async ({ method, path }) => {
    const api = await makeApi();
    const response = await api.call(undefined, method, path);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(response, 401, 'unauthorized');
    await expectProblem(await api.call('not-a-key', method, path), 401, 'unauthorized');
  });

  it.each(publicRoutes)(
    'public, answers without a key: $method $path',
    async ({ method, path }) => {
      const api = await makeApi();
      const response = await api.call(undefined, method, path);
      expect(response.status).not.toBe(401);
    },
  );

  it('lists only public patterns that some route matches', () => {
    for (const pattern of PUBLIC_ROUTES) {
      expect(
        routes.some((r) => matches(pattern, r.path)),
        pattern,
      ).toBe(true);
    }
  });

  it('401 for an unknown path under /v1 too (fail closed), 404 once authenticated', async () => {
    const api = await makeApi();
    await expectProblem(await api.call(undefined, 'GET', '/v1/nothing-here'), 401, 'unauthorized');
    await expectProblem(await api.call(api.alice, 'GET', '/v1/nothing-here'), 404, 'not_found');
  });
});
