import { createRoute, z } from '@hono/zod-openapi';
import type { GenerationData } from '../../../core/generation.ts';
import { redeliverWebhook } from '../../../core/webhooks/outbox.ts';
import { signEventUrls } from '../../../core/webhooks/event-urls.ts';
import { NotFoundError } from '../errors.ts';
import { createRouter, notFoundHook } from '../router.ts';
import { IdParam } from '../schemas/generation.ts';
import { COMMON_ERRORS, json, CONFLICT, NOT_FOUND } from '../schemas/problem.ts';
import { TAG } from '../schemas/tags.ts';
import { ensureWebhookSecret, rotateWebhookSecret } from '../services/webhook-secret.ts';

const Secret = z
  .object({
    secret: z.string().openapi({ description: 'Verify `webhook-signature` with this (whsec_…).' }),
    previous: z.array(z.string()).openapi({ description: 'Rotated-out secrets still signing.' }),
  })
  .openapi('WebhookSecret');

const Delivery = z.object({
  webhook_id: z.string(),
  type: z.string(),
  attempt: z.int(),
  at: z.string(),
  outcome: z.string(),
  status_code: z.int().optional(),
  error: z.string().optional(),
  duration_ms: z.number(),
  next_retry_at: z.string().optional(),
});

const SECRET_EXAMPLE = 'whsec_c2VjcmV0IGV4YW1wbGUgZm9yIHRoZSBkb2N1bWVudA==';

const getSecret = createRoute({
  method: 'get',
  path: '/v1/webhooks/secret',
  tags: [TAG.webhooks],
  operationId: 'getWebhookSecret',
  summary: 'Your webhook signing secret (created on first use)',
  responses: {
    200: json(Secret, 'The current secret.', { secret: SECRET_EXAMPLE, previous: [] }),
    ...COMMON_ERRORS,
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/v1/webhooks/secret/rotate',
  tags: [TAG.webhooks],
  operationId: 'rotateWebhookSecret',
  summary: 'Rotate the signing secret; the old one keeps signing for 24 h',
  responses: {
    200: json(Secret, 'The new secret and those still signing.', {
      secret: 'whsec_Ym9iIHJvdGF0ZWQgdGhpcyBzZWNyZXQgb24gdHVlc2RheQ==',
      previous: [SECRET_EXAMPLE],
    }),
    ...COMMON_ERRORS,
  },
});

const deliveries = createRoute({
  method: 'get',
  path: '/v1/generations/{id}/webhook/deliveries',
  tags: [TAG.webhooks],
  operationId: 'listWebhookDeliveries',
  summary: 'Webhook delivery attempts for a generation, oldest first',
  request: { params: IdParam },
  responses: {
    200: json(z.object({ object: z.literal('list'), data: z.array(Delivery) }), 'Attempts.', {
      object: 'list',
      data: [
        {
          webhook_id: 'msg_Qm3x7v0cJ8d2WfK1nT5yH9aLpZr',
          type: 'generation.succeeded',
          attempt: 1,
          at: '2026-01-05T10:00:01.600Z',
          outcome: 'delivered',
          status_code: 200,
          duration_ms: 84,
        },
      ],
    }),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
});

const redeliver = createRoute({
  method: 'post',
  path: '/v1/generations/{id}/webhook/redeliver',
  tags: [TAG.webhooks],
  operationId: 'redeliverWebhook',
  summary: 'Send a finished generation’s terminal webhook again (same webhook-id)',
  request: { params: IdParam },
  responses: {
    202: json(z.object({ webhook_id: z.string(), type: z.string() }), 'Queued for delivery.', {
      webhook_id: 'msg_Qm3x7v0cJ8d2WfK1nT5yH9aLpZr',
      type: 'generation.succeeded',
    }),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

export function webhooksRoutes() {
  const app = createRouter();
  const now = (c: { var: { deps: { now?: (() => Date) | undefined } } }) =>
    c.var.deps.now?.() ?? new Date();

  app.openapi(getSecret, async (c) => {
    const [secret = '', ...previous] = await ensureWebhookSecret(
      c.var.deps.keys,
      c.var.tenant,
      now(c),
    );
    return c.json({ secret, previous }, 200);
  });

  app.openapi(rotate, async (c) => {
    const [secret = '', ...previous] = await rotateWebhookSecret(
      c.var.deps.keys,
      c.var.tenant,
      now(c),
      24 * 3600,
    );
    return c.json({ secret, previous }, 200);
  });

  app.openapi(
    deliveries,
    async (c) => {
      const { deps, tenant } = c.var;
      const id = c.req.valid('param').id;
      await deps.jobs.get<GenerationData>(tenant, id);
      const log = deps.deliveryLog ? await deps.deliveryLog.list(tenant, id) : [];
      return c.json(
        {
          object: 'list' as const,
          data: log.map((a) => ({
            webhook_id: a.webhookId,
            type: a.type,
            attempt: a.attempt,
            at: a.at,
            outcome: a.outcome,
            status_code: a.statusCode,
            error: a.error,
            duration_ms: a.durationMs,
            next_retry_at: a.nextRetryAt,
          })),
        },
        200,
      );
    },
    notFoundHook,
  );

  app.openapi(
    redeliver,
    async (c) => {
      const { deps, tenant, limits } = c.var;
      if (!deps.outbox) throw new NotFoundError('this deployment has no webhook outbox');
      const id = c.req.valid('param').id;
      const job = await deps.jobs.get<GenerationData>(tenant, id);
      const urls = await signEventUrls(deps.blobs, job.data.outputs ?? [], limits.urlTtlSeconds);
      await ensureWebhookSecret(deps.keys, tenant, now(c));
      const event = await redeliverWebhook(
        { jobs: deps.jobs, outbox: deps.outbox },
        tenant,
        id,
        urls,
      );
      return c.json({ webhook_id: event.id, type: event.type }, 202);
    },
    notFoundHook,
  );

  return app;
}
