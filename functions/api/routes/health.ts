import { createRoute, z } from '@hono/zod-openapi';
import { json } from '../schemas/problem.ts';
import { createRouter } from '../router.ts';
import { TAG } from '../schemas/tags.ts';

const Health = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.record(z.string(), z.string()).optional(),
  })
  .openapi('Health');

const live = createRoute({
  method: 'get',
  path: '/healthz',
  tags: [TAG.health],
  operationId: 'liveness',
  summary: 'Liveness: the API process answers',
  security: [],
  responses: {
    200: json(Health, 'Alive.', { status: 'ok' }),
  },
});

const ready = createRoute({
  method: 'get',
  path: '/readyz',
  tags: [TAG.health],
  operationId: 'readiness',
  summary: 'Readiness: the job store and the queue answer',
  security: [],
  responses: {
    200: json(Health, 'Ready.', { status: 'ok', checks: { job_store: 'ok', queue: 'ok' } }),
    503: json(Health, 'A dependency is down.', {
      status: 'unavailable',
      checks: { job_store: 'ok', queue: 'unavailable: connection refused' },
    }),
  },
});

async function check(probe: () => Promise<void>): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (error) {
    return `unavailable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export function healthRoutes() {
  const app = createRouter();
  app.openapi(live, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, async (c) => {
    const { jobs, queue } = c.var.deps;
    const checks = {
      job_store: await check(() => jobs.ping()),
      queue: await check(() => queue.ping()),
    };
    const ok = Object.values(checks).every((v) => v === 'ok');
    return ok
      ? c.json({ status: 'ok' as const, checks }, 200)
      : c.json({ status: 'unavailable' as const, checks }, 503);
  });
  return app;
}
