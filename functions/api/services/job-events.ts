import type { GenerationJob, WebhookEventType } from '../../../core/generation.ts';
import { enqueueWebhookEvent } from '../../../core/webhooks/outbox.ts';
import type { ApiDeps } from '../deps.ts';

/** Webhook events the API itself causes (cancel of a queued job); the worker emits the rest. */
export async function emitJobEvent(
  deps: ApiDeps,
  job: GenerationJob,
  type: WebhookEventType,
): Promise<void> {
  if (deps.outbox) await enqueueWebhookEvent(deps.outbox, job, type);
}
