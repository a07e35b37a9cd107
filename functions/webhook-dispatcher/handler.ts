import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { dispatchEvent, type DispatchDeps } from './dispatch.ts';
import { parseOutboxMessage } from './parse.ts';

export interface HandlerDeps extends DispatchDeps {
  /** Told about every message that goes back to the queue (and from there to the DLQ). */
  readonly onError?: ((error: unknown, record: SQSRecord) => void) | undefined;
}

/**
 * The outbox consumer on AWS (SQS event source with ReportBatchItemFailures).
 *
 * A failed delivery is retried by re-sending the event to the outbox with its backoff as
 * `DelaySeconds` and reporting the original as done — not by listing it in batchItemFailures.
 * Leaving retries to SQS would tie the schedule to the queue's visibility timeout, make every
 * message of the batch wait as long as the slowest, and count each retry towards maxReceiveCount,
 * sending healthy-but-slow receivers' events to the DLQ within hours instead of 24 h.
 * batchItemFailures is kept for what the dispatcher itself could not do (log or queue
 * unreachable, an unreadable message): those come back by visibility timeout and end in the DLQ.
 */
export function createWebhookHandler(
  deps: HandlerDeps,
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const failures = await Promise.all(
      event.Records.map(async (record) => {
        try {
          await dispatchEvent(parseOutboxMessage(record.body), deps);
          return undefined;
        } catch (error) {
          deps.onError?.(error, record);
          return { itemIdentifier: record.messageId };
        }
      }),
    );
    return { batchItemFailures: failures.filter((f) => f !== undefined) };
  };
}
