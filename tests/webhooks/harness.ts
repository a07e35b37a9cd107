import { MemoryKeyStore } from '../../core/adapters/memory/memory-key-store.ts';
import { MemoryDeliveryLog } from '../../core/adapters/memory/memory-delivery-log.ts';
import type { WebhookEventMessage } from '../../core/generation.ts';
import type { SendOptions } from '../../core/ports/message-queue.ts';
import { generateWebhookSecret } from '../../core/webhooks/sign.ts';
import type { DispatchDeps, OutboxEvent } from '../../functions/webhook-dispatcher/dispatch.ts';
import { makeJob } from './fixtures.ts';
import { buildWebhookEvent } from '../../core/webhooks/events.ts';

/** An outbox that records what the dispatcher re-sends, with the delay it asked for. */
export class RecordingOutbox {
  readonly sent: { body: OutboxEvent; delaySeconds: number | undefined }[] = [];

  send(body: WebhookEventMessage, options?: SendOptions): Promise<void> {
    this.sent.push({ body: structuredClone(body), delaySeconds: options?.delaySeconds });
    return Promise.resolve();
  }
}

/** Dispatcher dependencies around memory adapters, a fixed clock and fixed jitter. */
export async function dispatchHarness(overrides: Partial<DispatchDeps> = {}) {
  const keys = new MemoryKeyStore();
  const secret = generateWebhookSecret();
  await keys.putWebhookSecrets('acme', [{ secret, createdAt: '2025-01-01T00:00:00Z' }]);
  const log = new MemoryDeliveryLog();
  const outbox = new RecordingOutbox();
  let now = new Date();
  const deps: DispatchDeps = {
    keys,
    log,
    outbox,
    policy: { allowLoopbackHttp: true },
    timeoutMs: 2000,
    now: () => now,
    random: () => 0.5,
    ...overrides,
  };
  return {
    deps,
    keys,
    log,
    outbox,
    secret,
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}

/** The succeeded event of the fixture job, addressed to `url`. */
export function succeededEvent(url: string): WebhookEventMessage {
  const event = buildWebhookEvent(makeJob('succeeded', { url }), 'generation.succeeded');
  if (!event) throw new Error('fixture job should want the event');
  return event;
}
