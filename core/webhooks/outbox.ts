import { DitserveError } from '../errors.ts';
import type {
  GenerationData,
  GenerationJob,
  WebhookEventMessage,
  WebhookEventType,
} from '../generation.ts';
import { isTerminal } from '../job.ts';
import type { JobStore } from '../ports/job-store.ts';
import type { MessageQueue } from '../ports/message-queue.ts';
import { buildWebhookEvent, eventTypeForStatus, type BuildEventOptions } from './events.ts';

export type WebhookOutbox = Pick<MessageQueue<WebhookEventMessage>, 'send'>;

/** Redelivery asked for a job that is still running (409). */
export class JobNotTerminalError extends DitserveError {
  readonly code = 'job_not_terminal';
}

/** Redelivery asked for a job with no webhook, or one that does not subscribe to its end (409). */
export class WebhookNotConfiguredError extends DitserveError {
  readonly code = 'webhook_not_configured';
}

/**
 * Builds the event for `job` and sends it to the outbox when the job's webhook wants it; returns
 * the message sent, or undefined when there was nothing to send. Called by the worker after each
 * state change (and, throttled, on progress) and by the API when it cancels a queued job.
 */
export async function enqueueWebhookEvent(
  outbox: WebhookOutbox,
  job: GenerationJob,
  type: WebhookEventType,
  options?: BuildEventOptions,
): Promise<WebhookEventMessage | undefined> {
  const event = buildWebhookEvent(job, type, options);
  if (event) await outbox.send(event);
  return event;
}

/**
 * `POST /v1/generations/{id}/webhook/redeliver`: sends the job's terminal event again, with a
 * fresh attempt count (a new 24 h retry window) and the webhook-id of the original, since event
 * ids derive from the job and the event type. Output URLs may be re-signed through `options`.
 */
export async function redeliverWebhook(
  deps: { readonly jobs: Pick<JobStore, 'get'>; readonly outbox: WebhookOutbox },
  tenant: string,
  jobId: string,
  options?: Omit<BuildEventOptions, 'now'>,
): Promise<WebhookEventMessage> {
  const job = await deps.jobs.get<GenerationData>(tenant, jobId);
  if (!isTerminal(job.status)) {
    throw new JobNotTerminalError(`job ${jobId} is ${job.status}; only finished jobs redeliver`);
  }
  const type = eventTypeForStatus(job.status);
  const event = type && buildWebhookEvent(job, type, options);
  if (!type || !event) {
    throw new WebhookNotConfiguredError(`job ${jobId} has no webhook for ${type ?? job.status}`);
  }
  const fresh: WebhookEventMessage = { ...event, attempt: 0 };
  await deps.outbox.send(fresh);
  return fresh;
}
