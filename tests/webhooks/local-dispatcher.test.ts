import { describe, expect, it } from 'vitest';
import { MemoryDeliveryLog } from '../../core/adapters/memory/memory-delivery-log.ts';
import { MemoryKeyStore } from '../../core/adapters/memory/memory-key-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import type { WebhookEventMessage } from '../../core/generation.ts';
import { enqueueWebhookEvent } from '../../core/webhooks/outbox.ts';
import { generateWebhookSecret } from '../../core/webhooks/sign.ts';
import { createLocalDispatcher } from '../../functions/webhook-dispatcher/local-dispatcher.ts';
import { makeJob } from './fixtures.ts';
import { startReceiver } from '../e2e/webhook-receiver.ts';

async function until(condition: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('local dispatcher', () => {
  it('drains a memory outbox end to end: delivers, retries after a 500, then stops', async () => {
    const receiver = await startReceiver({ status: 500 }, { status: 200 });
    const outbox = new MemoryMessageQueue<WebhookEventMessage>();
    const keys = new MemoryKeyStore();
    await keys.putWebhookSecrets('acme', [
      { secret: generateWebhookSecret(), createdAt: '2025-01-01T00:00:00Z' },
    ]);
    const log = new MemoryDeliveryLog();
    const dispatcher = createLocalDispatcher({
      outbox,
      keys,
      log,
      policy: { allowLoopbackHttp: true },
      waitSeconds: 1,
      // The first retry waits between 1 s and 1 s, so the test sees it quickly.
      retry: { capsSeconds: [1], retryForSeconds: 3600, maxRetryAfterSeconds: 1 },
    });
    const controller = new AbortController();
    dispatcher.start(controller.signal);
    expect(dispatcher.running).toBe(true);

    await enqueueWebhookEvent(
      outbox,
      makeJob('succeeded', { url: receiver.url }),
      'generation.succeeded',
    );
    await until(async () =>
      (await log.list('acme', 'gen_test1')).some((a) => a.outcome === 'delivered'),
    );

    const attempts = await log.list('acme', 'gen_test1');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'retry', 500],
      [2, 'delivered', 200],
    ]);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    await until(async () => (await outbox.depth()) === 0);

    controller.abort();
    await dispatcher.stop();
    expect(dispatcher.running).toBe(false);
  });

  it('does not delete a message whose dispatch throws: it comes back after its visibility timeout', async () => {
    const outbox = new MemoryMessageQueue<WebhookEventMessage>();
    const failures: (WebhookEventMessage | undefined)[] = [];
    const dispatcher = createLocalDispatcher({
      outbox,
      keys: new MemoryKeyStore(),
      log: {
        append: () => Promise.reject(new Error('disk full')),
        list: () => Promise.resolve([]),
      },
      policy: {},
      waitSeconds: 1,
      visibilitySeconds: 1,
      onError: (_error, event) => failures.push(event),
    });
    dispatcher.start();
    const sent = await enqueueWebhookEvent(outbox, makeJob('failed'), 'generation.failed');
    await until(() => failures.length >= 2);
    await dispatcher.stop();
    expect(failures.slice(0, 2).map((e) => e?.id)).toEqual([sent?.id, sent?.id]);
  });

  it('stops at once when started with an aborted signal', async () => {
    const dispatcher = createLocalDispatcher({
      outbox: new MemoryMessageQueue<WebhookEventMessage>(),
      keys: new MemoryKeyStore(),
      log: new MemoryDeliveryLog(),
      waitSeconds: 20,
    });
    dispatcher.start(AbortSignal.abort());
    await dispatcher.stop();
    expect(dispatcher.running).toBe(false);
  });
});
