import { Webhook } from 'standardwebhooks';
import { startWebhookReceiver } from '../e2e/webhook-receiver.ts';

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'generation.succeeded',
  'generation.failed',
  'generation.canceled',
]);

/** One distinct event (first delivery of its webhook-id). */
export interface LedgerEvent {
  readonly webhookId: string;
  readonly type: string;
  /** data.status in the payload. */
  readonly status: string;
  readonly at: number;
  /** Deliveries of this webhook-id after the first. */
  duplicates: number;
}

export interface JobHooks {
  readonly events: LedgerEvent[];
  duplicates: number;
}

interface Payload {
  readonly type?: string;
  readonly data?: { readonly id?: string; readonly status?: string };
}

/**
 * The harness's webhook receiver: the e2e receiver (a real HTTP server that records every POST
 * and answers 204), plus Standard Webhooks signature verification with the tenant's secret,
 * deduplication by `webhook-id`, and per-job bookkeeping. Deliveries are checked as they come
 * (a poll every 200 ms), since verification also bounds the timestamp's age.
 */
export async function startWebhookLedger() {
  const receiver = await startWebhookReceiver();
  let verifier: Webhook | undefined;
  let processed = 0;
  const byId = new Map<string, LedgerEvent>();
  const byJob = new Map<string, JobHooks>();
  const invalid: { readonly reason: string; readonly body: string }[] = [];
  let deliveries = 0;
  let lastArrival = 0;

  const sync = () => {
    if (!verifier) return;
    for (; processed < receiver.received.length; processed++) {
      const hook = receiver.received[processed];
      if (!hook) continue;
      deliveries += 1;
      lastArrival = Date.now();
      const header = (name: string) => {
        const value = hook.headers[name];
        return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
      };
      let payload: Payload;
      try {
        payload = verifier.verify(hook.body, {
          'webhook-id': header('webhook-id'),
          'webhook-timestamp': header('webhook-timestamp'),
          'webhook-signature': header('webhook-signature'),
        }) as Payload;
      } catch (error) {
        invalid.push({ reason: String(error), body: hook.body.slice(0, 300) });
        continue;
      }
      const webhookId = header('webhook-id');
      const jobId = payload.data?.id ?? '?';
      const job = byJob.get(jobId) ?? { events: [], duplicates: 0 };
      byJob.set(jobId, job);
      const seen = byId.get(webhookId);
      if (seen) {
        seen.duplicates += 1;
        job.duplicates += 1;
        continue;
      }
      const event: LedgerEvent = {
        webhookId,
        type: payload.type ?? '?',
        status: payload.data?.status ?? '?',
        at: Date.now(),
        duplicates: 0,
      };
      byId.set(webhookId, event);
      job.events.push(event);
    }
  };
  const timer = setInterval(sync, 200);

  return {
    url: receiver.url,
    /** Verification starts once the tenant's secret is known (deliveries wait until then). */
    setSecret(secret: string) {
      verifier = new Webhook(secret);
      sync();
    },
    sync,
    /** The job's distinct events, in arrival order, and its duplicate deliveries. */
    job(jobId: string): JobHooks {
      sync();
      return byJob.get(jobId) ?? { events: [], duplicates: 0 };
    },
    terminalEvents(jobId: string): LedgerEvent[] {
      return this.job(jobId).events.filter((e) => TERMINAL_EVENT_TYPES.has(e.type));
    },
    totals() {
      sync();
      let terminalDistinct = 0;
      let terminalDuplicates = 0;
      for (const e of byId.values()) {
        if (!TERMINAL_EVENT_TYPES.has(e.type)) continue;
        terminalDistinct += 1;
        terminalDuplicates += e.duplicates;
      }
      return {
        deliveries,
        distinct: byId.size,
        duplicates: deliveries - byId.size - invalid.length,
        terminalDistinct,
        terminalDuplicates,
        invalidSignatures: invalid.length,
      };
    },
    invalid,
    lastArrival: () => lastArrival,
    async close() {
      clearInterval(timer);
      sync();
      await receiver.close();
    },
  };
}

export type WebhookLedger = Awaited<ReturnType<typeof startWebhookLedger>>;
