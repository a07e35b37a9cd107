import type { WebhookEventMessage } from '../../core/generation.ts';
import type {
  DeliveryAttempt,
  DeliveryLog,
  DeliveryOutcome,
} from '../../core/ports/delivery-log.ts';
import type { MessageQueue } from '../../core/ports/message-queue.ts';
import { attemptDelivery, type AttemptDeps, type AttemptResult } from './attempt.ts';
import { backoffSeconds, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';

/** SQS's longest message delay; longer waits are chained re-sends (see `notBefore`). */
export const MAX_DELAY_SECONDS = 900;

/**
 * The dispatcher's bookkeeping on an outbox message. Producers send plain WebhookEventMessages;
 * the dispatcher adds these when it re-sends, so the retry state travels with the event and no
 * other store is needed.
 */
export interface OutboxEvent extends WebhookEventMessage {
  /** When attempt 1 happened: the 24 h retry window runs from here. */
  readonly firstAttemptAt?: string | undefined;
  /** Not to be attempted before this instant (a wait longer than SQS's 900 s delay). */
  readonly notBefore?: string | undefined;
}

export interface DispatchDeps extends AttemptDeps {
  readonly log: DeliveryLog;
  /** Where retries go: the same outbox the event came from. */
  readonly outbox: Pick<MessageQueue<WebhookEventMessage>, 'send'>;
  readonly retry?: RetryPolicy | undefined;
  readonly now?: (() => Date) | undefined;
  readonly random?: (() => number) | undefined;
}

export type DispatchResult =
  | { readonly outcome: 'deferred'; readonly delaySeconds: number }
  | { readonly outcome: DeliveryOutcome; readonly attempt: DeliveryAttempt };

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

function retryDelay(
  result: AttemptResult,
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
): number {
  if (result.retryAfterSeconds !== undefined) {
    return Math.max(1, Math.min(result.retryAfterSeconds, policy.maxRetryAfterSeconds));
  }
  return backoffSeconds(attempt, policy, random);
}

/**
 * Handles one outbox message: attempts delivery (or, when it is not due yet, re-sends it for the
 * rest of its wait), records the attempt, and re-sends a failed event with its backoff delay and
 * the same webhook-id. Resolving means the message is dealt with and the caller deletes it;
 * throwing (log or queue unreachable) means it was not, and the queue must bring it back.
 *
 * The attempt is logged before the retry is sent: if the send then fails, the redelivered
 * message repeats the attempt (a duplicate POST with the same webhook-id, which receivers
 * deduplicate) rather than forking a second retry chain.
 */
export async function dispatchEvent(
  message: WebhookEventMessage,
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const event: OutboxEvent = message;
  const now = deps.now?.() ?? new Date();
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;

  // A second of slack: SQS delays are whole seconds and clocks differ a little between hosts.
  if (event.notBefore !== undefined && Date.parse(event.notBefore) - now.getTime() >= 1000) {
    const delaySeconds = Math.min(
      MAX_DELAY_SECONDS,
      seconds(Date.parse(event.notBefore) - now.getTime()),
    );
    await deps.outbox.send(event, { delaySeconds });
    return { outcome: 'deferred', delaySeconds };
  }

  const number = (event.attempt ?? 0) + 1;
  const firstAttemptAt = event.firstAttemptAt ?? now.toISOString();
  const result = await attemptDelivery(event, deps, now);

  let outcome: DeliveryOutcome;
  let nextRetryAt: Date | undefined;
  if (result.kind === 'ok') outcome = 'delivered';
  else if (result.kind === 'gone') outcome = 'gone';
  else if (result.kind === 'refused') outcome = 'refused';
  else if (now.getTime() - Date.parse(firstAttemptAt) >= policy.retryForSeconds * 1000) {
    outcome = 'exhausted';
  } else {
    outcome = 'retry';
    const delay = retryDelay(result, number, policy, deps.random ?? Math.random);
    nextRetryAt = new Date(now.getTime() + delay * 1000);
  }

  const attempt: DeliveryAttempt = {
    webhookId: event.id,
    type: event.type,
    attempt: number,
    at: now.toISOString(),
    outcome,
    ...(result.statusCode === undefined ? {} : { statusCode: result.statusCode }),
    ...(result.error === undefined ? {} : { error: result.error }),
    durationMs: result.durationMs,
    ...(nextRetryAt ? { nextRetryAt: nextRetryAt.toISOString() } : {}),
  };
  await deps.log.append(event.tenant, event.jobId, attempt);

  if (nextRetryAt) {
    const next: OutboxEvent = {
      ...event,
      attempt: number,
      firstAttemptAt,
      notBefore: nextRetryAt.toISOString(),
    };
    const delaySeconds = Math.min(
      MAX_DELAY_SECONDS,
      seconds(nextRetryAt.getTime() - now.getTime()),
    );
    await deps.outbox.send(next, { delaySeconds });
  }
  return { outcome, attempt };
}
