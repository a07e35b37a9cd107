import type { GenerationJob, WebhookEventType } from '../../../core/generation.ts';
import type { ApiDeps } from '../deps.ts';

/** Webhook events the API itself causes (cancel of a queued job); the worker emits the rest. */
export async function emitJobEvent(
  deps: ApiDeps,
  job: GenerationJob,
  type: WebhookEventType,
): Promise<void> {
  const hook = job.data.webhook;
  if (!deps.outbox || !hook) return;
  if (hook.events && !hook.events.includes(type)) return;
  await deps.outbox.send({
    id: `msg_${job.id}_${type}`,
    tenant: job.tenant,
    jobId: job.id,
    type,
    url: hook.url,
    timestamp: new Date().toISOString(),
    data: { id: job.id, status: job.status },
  });
}
