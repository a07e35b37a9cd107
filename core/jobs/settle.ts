import type { GenerationJob } from '../generation.ts';
import { isTerminal } from '../job.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { JobStore } from '../ports/job-store.ts';
import { eventTypeForStatus } from '../webhooks/events.ts';
import { signEventUrls } from '../webhooks/event-urls.ts';
import { enqueueWebhookEvent, type WebhookOutbox } from '../webhooks/outbox.ts';

export interface SettleDeps {
  readonly jobs: Pick<JobStore, 'dropUnfinished'>;
  /** Webhook events go here; none are sent without it. */
  readonly outbox?: WebhookOutbox | undefined;
  /** Signs the output URLs put into a succeeded event. */
  readonly blobs?: Pick<BlobStore, 'signedUrl'> | undefined;
  /** @default 86400 */
  readonly urlTtlSeconds?: number | undefined;
}

/**
 * The last step of every ended job, wherever it ended (worker, API cancel, sweeper): its terminal
 * event goes to the outbox, then the job leaves the unfinished index. In that order, so a crash
 * in between leaves the job where the sweeper (or the job's returning message) announces it
 * again. The event's `webhook-id` derives from the job and its status, so receivers see a
 * repeat, never a second distinct event.
 */
export async function settle(deps: SettleDeps, job: GenerationJob): Promise<void> {
  if (!isTerminal(job.status)) throw new Error(`job ${job.id} is ${job.status}, not ended`);
  const type = eventTypeForStatus(job.status);
  if (deps.outbox && type) {
    const ttl = deps.urlTtlSeconds ?? 86_400;
    const urls =
      job.status === 'succeeded' && deps.blobs
        ? await signEventUrls(deps.blobs, job.data.outputs ?? [], ttl)
        : {};
    await enqueueWebhookEvent(deps.outbox, job, type, urls);
  }
  await deps.jobs.dropUnfinished(job.tenant, job.id);
}
