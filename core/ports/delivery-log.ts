import { KEYS } from '../storage-layout.ts';
import type { WebhookEventType } from '../generation.ts';

/** How one delivery attempt ended; `retry` means another attempt is scheduled at nextRetryAt. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'gone' | 'refused' | 'exhausted';

/** One POST attempt (or one refusal before any POST) of one webhook event. */
export interface DeliveryAttempt {
  /** The Standard Webhooks `webhook-id`: the same on every attempt of one event. */
  readonly webhookId: string;
  readonly type: WebhookEventType;
  /** 1 for the first attempt; a redelivery starts at 1 again. */
  readonly attempt: number;
  /** ISO time the attempt started. */
  readonly at: string;
  readonly outcome: DeliveryOutcome;
  /** The receiver's HTTP status, when it answered. */
  readonly statusCode?: number | undefined;
  /** What went wrong without (or besides) a status: timeout, refused address, DNS failure, … */
  readonly error?: string | undefined;
  readonly durationMs: number;
  readonly nextRetryAt?: string | undefined;
}

/**
 * Per-job record of webhook deliveries, for `GET …/webhook/deliveries` and for debugging a
 * receiver. Append-only: adapters store one entry per attempt, so concurrent dispatchers never
 * overwrite each other (the `webhooks/{tenant}/{jobId}/` prefix).
 */
export interface DeliveryLog {
  append(tenant: string, jobId: string, attempt: DeliveryAttempt): Promise<void>;
  /** The job's attempts, oldest first; empty when there were none. */
  list(tenant: string, jobId: string): Promise<DeliveryAttempt[]>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/** `webhooks/{tenant}/{jobId}/deliveries/`, refusing ids that could escape the prefix. */
export function deliveryLogPrefix(tenant: string, jobId: string): string {
  for (const segment of [tenant, jobId]) {
    if (!SAFE_SEGMENT.test(segment))
      throw new RangeError(`unsafe id for a storage key: ${segment}`);
  }
  return KEYS.deliveryLog(tenant, jobId);
}

/**
 * A name for one attempt that sorts in time order (zero-padded epoch ms) and never collides
 * (attempt number and a random suffix), so storage listings come back oldest first.
 */
export function deliveryEntryName(attempt: DeliveryAttempt, random: string): string {
  const ms = String(Date.parse(attempt.at)).padStart(15, '0');
  const seq = String(attempt.attempt).padStart(4, '0');
  return `${ms}-${seq}-${random}.json`;
}
