import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { isTerminal } from '../../../core/job.ts';
import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import type { ApiEnv } from '../hono-env.ts';
import { createRouter, notFoundHook, validationHook } from '../router.ts';
import {
  Generation,
  GenerationCreate,
  GenerationList,
  IdParam,
  ListQuery,
} from '../schemas/generation.ts';
import { BODY_ERRORS, json, COMMON_ERRORS, CONFLICT, NOT_FOUND } from '../schemas/problem.ts';
import {
  CANCELED_EXAMPLE,
  CREATE_EXAMPLE,
  EVENTS_EXAMPLE,
  QUEUED_EXAMPLE,
  RUNNING_EXAMPLE,
  SUCCEEDED_EXAMPLE,
} from '../schemas/examples.ts';
import { TAG } from '../schemas/tags.ts';
import { cancelGeneration } from '../services/cancel.ts';
import { toView } from '../services/job-view.ts';
import { queuePositionOf } from '../services/queue-stats.ts';
import { submitGeneration } from '../services/submit.ts';
import { isDeleted, visibleJob } from '../services/visible-job.ts';
import { waitForJob, waitSignal, watchJob } from '../services/wait-for-job.ts';
import { settleEndedJob } from '../services/job-events.ts';
import type { Context } from 'hono';
import { publicBaseUrl } from '../public-url.ts';

const Headers = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: 'Same key + same body → the same job; a different body → 409.' }),
  prefer: z.string().optional().openapi({
    description: '`wait=N`: hold up to N seconds and answer 200 with the finished job.',
  }),
});

const create = createRoute({
  method: 'post',
  path: '/v1/generations',
  tags: [TAG.generations],
  operationId: 'createGeneration',
  summary: 'Create a generation',
  description:
    'Answers 202 with the queued generation and a `Location`; follow it with GET, `Prefer: wait=N` or the events stream.',
  request: {
    headers: Headers,
    body: {
      required: true,
      content: { 'application/json': { schema: GenerationCreate, example: CREATE_EXAMPLE } },
    },
  },
  responses: {
    200: json(Generation, 'Finished within `Prefer: wait`.', SUCCEEDED_EXAMPLE),
    202: json(Generation, 'Queued (or still running when the wait ran out).', QUEUED_EXAMPLE),
    ...BODY_ERRORS,
    ...COMMON_ERRORS,
    ...CONFLICT,
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/generations/{id}',
  tags: [TAG.generations],
  operationId: 'getGeneration',
  summary: 'Get a generation',
  request: { params: IdParam },
  responses: {
    200: json(Generation, 'The generation.', RUNNING_EXAMPLE),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/generations',
  tags: [TAG.generations],
  operationId: 'listGenerations',
  summary: 'List your generations, newest first',
  description: 'Pages of up to `limit`; pass `next_cursor` as `cursor` for the next one.',
  request: { query: ListQuery },
  responses: {
    200: json(GenerationList, 'One page.', {
      object: 'list',
      data: [SUCCEEDED_EXAMPLE],
      has_more: true,
      next_cursor: 'eyJrIjoiMTczNjA3MjAwMDAwMCJ9',
    }),
    422: BODY_ERRORS[422],
    ...COMMON_ERRORS,
  },
});

const cancel = createRoute({
  method: 'post',
  path: '/v1/generations/{id}/cancel',
  tags: [TAG.generations],
  operationId: 'cancelGeneration',
  summary: 'Cancel a generation',
  description: 'A queued generation is canceled at once, a running one at its next step.',
  request: { params: IdParam },
  responses: {
    200: json(
      Generation,
      'Canceled, or cancellation requested (`cancel_requested`).',
      CANCELED_EXAMPLE,
    ),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

const events = createRoute({
  method: 'get',
  path: '/v1/generations/{id}/events',
  tags: [TAG.generations],
  operationId: 'streamGenerationEvents',
  summary: 'Server-Sent Events of status and progress until the generation ends',
  description:
    'EventSource cannot send an Authorization header: browsers read the stream with `fetch` (as the playground does).',
  request: { params: IdParam },
  responses: {
    200: {
      description:
        'text/event-stream: `status` and `progress` events carrying the generation, then `done`.',
      content: { 'text/event-stream': { schema: z.string(), example: EVENTS_EXAMPLE } },
    },
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
});

/** `Prefer: wait=N` (RFC 7240), capped by the deployment. */
function preferredWait(header: string | undefined, max: number): number | undefined {
  const match = header ? /(?:^|[,;\s])wait=(\d+)/i.exec(header) : null;
  return match?.[1] ? Math.min(Number(match[1]), max) : undefined;
}

function origin(c: Context<ApiEnv>): string {
  return publicBaseUrl(c);
}

async function view(c: Context<ApiEnv>, job: GenerationJob, withPosition = false) {
  return toView(
    job,
    c.var.deps.blobs,
    origin(c),
    c.var.limits.urlTtlSeconds,
    withPosition ? await queuePositionOf(c.var.deps.jobs, job) : undefined,
  );
}

export function generationsRoutes() {
  const app = createRouter();

  app.openapi(
    create,
    async (c) => {
      const body = c.req.valid('json');
      const { deps, limits } = c.var;
      const now = deps.now?.() ?? new Date();
      const caller = { tenant: c.var.tenant, keyId: c.var.keyId, requestId: c.var.requestId };
      const { job, replayed } = await submitGeneration(
        deps,
        limits,
        caller,
        body,
        c.req.header('idempotency-key'),
        now,
      );
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/v1/generations/${job.id}`);
      const wait = preferredWait(c.req.header('prefer'), limits.maxWaitSeconds);
      let current = job;
      if (wait !== undefined && !isTerminal(job.status)) {
        c.header('preference-applied', `wait=${wait}`);
        const until = waitSignal(c.req.raw.signal, deps.shutdown);
        try {
          current = await waitForJob(deps.jobs, job.tenant, job.id, {
            intervalMs: deps.pollIntervalMs ?? 250,
            deadline: Date.now() + wait * 1000,
            signal: until.signal,
          });
        } finally {
          until.release();
        }
      }
      const status = isTerminal(current.status) && (wait !== undefined || replayed) ? 200 : 202;
      // No queue_position here: GET has it; computing it on every submit costs a queue scan.
      return c.json(await view(c, current), status);
    },
    validationHook(GenerationCreate),
  );

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await c.var.deps.jobs.list<GenerationData>(c.var.tenant, {
      limit: q.limit ?? 20,
      cursor: q.cursor,
      status: q.status,
    });
    return c.json(
      {
        object: 'list' as const,
        // Deleted generations (DELETE /v1/videos) are gone: a page may come out shorter.
        data: await Promise.all(page.jobs.filter((j) => !isDeleted(j)).map((job) => view(c, job))),
        has_more: page.nextCursor !== undefined,
        next_cursor: page.nextCursor,
      },
      200,
    );
  });

  app.openapi(
    get,
    async (c) => {
      const job = await visibleJob(c.var.deps.jobs, c.var.tenant, c.req.valid('param').id);
      return c.json(await view(c, job, true), 200);
    },
    notFoundHook,
  );

  app.openapi(
    cancel,
    async (c) => {
      const { deps } = c.var;
      await visibleJob(deps.jobs, c.var.tenant, c.req.valid('param').id);
      const outcome = await cancelGeneration(
        deps.jobs,
        c.var.tenant,
        c.req.valid('param').id,
        deps.now?.() ?? new Date(),
      );
      if (outcome.canceledNow) await settleEndedJob(deps, outcome.job);
      return c.json(await view(c, outcome.job), 200);
    },
    notFoundHook,
  );

  app.openapi(
    events,
    async (c) => {
      const { deps } = c.var;
      const id = c.req.valid('param').id;
      // Read once before streaming so that an unknown id is a 404, not an empty stream.
      await visibleJob(deps.jobs, c.var.tenant, id);
      return streamSSE(c, async (stream) => {
        let lastStatus = '';
        let counter = 0;
        let last: GenerationJob | undefined;
        const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n'), 15_000);
        const until = waitSignal(c.req.raw.signal, deps.shutdown);
        try {
          for await (const job of watchJob(deps.jobs, c.var.tenant, id, {
            intervalMs: deps.pollIntervalMs ?? 250,
            deadline: Date.now() + c.var.limits.maxStreamSeconds * 1000,
            signal: until.signal,
          })) {
            last = job;
            const event = job.status !== lastStatus ? 'status' : 'progress';
            lastStatus = job.status;
            const data = JSON.stringify(await view(c, job));
            await stream.writeSSE({ event, data, id: String(++counter) });
            if (isTerminal(job.status))
              await stream.writeSSE({ event: 'done', data, id: String(++counter) });
          }
          // The server is going away: say so with the job as it stands, then end the stream
          // (EventSource reconnects, to this server once it is back or to another).
          const ended = last !== undefined && isTerminal(last.status);
          if (deps.shutdown?.aborted && !c.req.raw.signal.aborted && !ended) {
            const current = await deps.jobs.get<GenerationData>(c.var.tenant, id).catch(() => last);
            if (current) {
              const data = JSON.stringify(await view(c, current));
              await stream.writeSSE({ event: 'shutdown', data, id: String(++counter) });
            }
          }
        } finally {
          until.release();
          clearInterval(heartbeat);
        }
      });
    },
    notFoundHook,
  );

  return app;
}
