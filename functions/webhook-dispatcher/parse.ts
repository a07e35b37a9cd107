import { WEBHOOK_EVENT_TYPES, type WebhookEventMessage } from '../../core/generation.ts';

const TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/**
 * An outbox message from its SQS body. A malformed one throws, so it goes back to the queue and
 * on to the DLQ for a person to look at, instead of being "retried" for 24 hours.
 */
export function parseOutboxMessage(text: string): WebhookEventMessage {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null)
    throw new TypeError('outbox message is not an object');
  const m = value as Record<string, unknown>;
  for (const field of ['id', 'tenant', 'jobId', 'url', 'timestamp'] as const) {
    if (typeof m[field] !== 'string') throw new TypeError(`outbox message has no string ${field}`);
  }
  if (typeof m.type !== 'string' || !TYPES.has(m.type)) {
    throw new TypeError(`outbox message has an unknown type`);
  }
  if (m.attempt !== undefined && typeof m.attempt !== 'number') {
    throw new TypeError('outbox message attempt is not a number');
  }
  return value as WebhookEventMessage;
}
