import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { Delivery, MessageQueue } from '../../../core/ports/message-queue.ts';

export interface QueueSetup {
  /** Visibility timeout when a receive names none. */
  readonly visibilitySeconds: number;
  /** Deliveries before a message moves to the dead-letter queue. */
  readonly maxReceives: number;
}

export interface QueueUnderTest {
  readonly queue: MessageQueue<Body>;
  readonly deadLetter: MessageQueue<Body>;
}

interface Body {
  n: number;
  tags?: string[];
}

/**
 * The SQS semantics every MessageQueue adapter must show. Timeouts are whole seconds (as SQS),
 * so the suite sleeps for real; every case keeps its waits to a couple of seconds.
 */
export function messageQueueContract(
  make: (setup: QueueSetup) => Promise<QueueUnderTest> | QueueUnderTest,
): void {
  const setup = (overrides: Partial<QueueSetup> = {}): Promise<QueueUnderTest> =>
    Promise.resolve(make({ visibilitySeconds: 30, maxReceives: 5, ...overrides }));

  /** Receives until `count` deliveries arrived or `seconds` ran out (SQS may split batches). */
  async function drain(
    queue: MessageQueue<Body>,
    count: number,
    seconds = 3,
  ): Promise<Delivery<Body>[]> {
    const out: Delivery<Body>[] = [];
    const deadline = Date.now() + seconds * 1000;
    while (out.length < count && Date.now() < deadline) {
      out.push(...(await queue.receive({ maxMessages: 10, waitSeconds: 1 })));
    }
    return out;
  }

  it('delivers a copy of the body once, then hides it from other receivers', async () => {
    const { queue } = await setup();
    const body: Body = { n: 1, tags: ['a'] };
    await queue.send(body);
    body.tags?.push('changed after send');
    const [first, ...more] = await queue.receive({ waitSeconds: 1 });
    expect(more).toEqual([]);
    expect(first?.body).toEqual({ n: 1, tags: ['a'] });
    expect(first?.receiveCount).toBe(1);
    expect(typeof first?.receipt).toBe('string');
    expect(await queue.receive()).toEqual([]);
  });

  it('redelivers an undeleted message after its visibility timeout, with a higher count', async () => {
    const { queue } = await setup();
    await queue.send({ n: 2 });
    const [first] = await queue.receive({ visibilitySeconds: 1, waitSeconds: 1 });
    expect(first?.receiveCount).toBe(1);
    const [second] = await queue.receive({ waitSeconds: 4 });
    expect(second?.body).toEqual({ n: 2 });
    expect(second?.receiveCount).toBe(2);
    expect(second?.receipt).not.toBe(first?.receipt);
    // The first worker finishing late must not fail, whatever the queue does with the message.
    await expect(queue.delete(first?.receipt ?? '')).resolves.toBeUndefined();
  });

  it('deletes a message for good', async () => {
    const { queue } = await setup();
    await queue.send({ n: 3 });
    const [got] = await queue.receive({ visibilitySeconds: 1, waitSeconds: 1 });
    await queue.delete(got?.receipt ?? '');
    await delay(1200);
    expect(await queue.receive({ waitSeconds: 1 })).toEqual([]);
    expect(await queue.depth()).toBe(0);
  });

  it('makes a released message visible at once', async () => {
    const { queue } = await setup();
    await queue.send({ n: 4 });
    const [got] = await queue.receive({ waitSeconds: 1 });
    await queue.release(got?.receipt ?? '');
    const [again] = await queue.receive({ waitSeconds: 1 });
    expect(again?.body).toEqual({ n: 4 });
    expect(again?.receiveCount).toBe(2);
  });

  it('keeps an extended message hidden past its first timeout', async () => {
    const { queue } = await setup();
    await queue.send({ n: 5 });
    const [got] = await queue.receive({ visibilitySeconds: 1, waitSeconds: 1 });
    await queue.extend(got?.receipt ?? '', 4);
    await delay(1500);
    expect(await queue.receive()).toEqual([]);
    await queue.delete(got?.receipt ?? '');
  });

  it('does not fail extend or release on a stale receipt', async () => {
    const { queue } = await setup();
    await queue.send({ n: 6 });
    const [first] = await queue.receive({ visibilitySeconds: 1, waitSeconds: 1 });
    const [second] = await queue.receive({ waitSeconds: 4 });
    expect(second?.receiveCount).toBe(2);
    await expect(queue.extend(first?.receipt ?? '', 10)).resolves.toBeUndefined();
    await expect(queue.release(first?.receipt ?? '')).resolves.toBeUndefined();
  });

  it('receives in batches of at most ten, every message exactly once while hidden', async () => {
    const { queue } = await setup();
    await Promise.all(Array.from({ length: 12 }, (_, n) => queue.send({ n })));
    const batch = await queue.receive({ maxMessages: 10, waitSeconds: 1 });
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(10);
    const all = [...batch, ...(await drain(queue, 12 - batch.length))];
    expect(all.map((d) => d.body.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, n) => n),
    );
  });

  it('holds a delayed message back until its delay has passed', async () => {
    const { queue } = await setup();
    const sentAt = Date.now();
    await queue.send({ n: 7 }, { delaySeconds: 1 });
    expect(await queue.receive()).toEqual([]);
    const [got] = await queue.receive({ waitSeconds: 4 });
    expect(got?.body).toEqual({ n: 7 });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900);
  });

  it('wakes a long poll when a message arrives', async () => {
    const { queue } = await setup();
    const started = Date.now();
    const polling = queue.receive({ waitSeconds: 10 });
    await delay(300);
    await queue.send({ n: 8 });
    const [got] = await polling;
    expect(got?.body).toEqual({ n: 8 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends a long poll early when its signal aborts', async () => {
    const { queue } = await setup();
    const controller = new AbortController();
    const started = Date.now();
    const polling = queue.receive({ waitSeconds: 20, signal: controller.signal });
    await delay(200);
    controller.abort();
    expect(await polling).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('counts messages waiting, not those being worked on', async () => {
    const { queue } = await setup();
    await Promise.all([1, 2, 3].map((n) => queue.send({ n })));
    expect(await queue.depth()).toBe(3);
    await queue.receive({ waitSeconds: 1 });
    expect(await queue.depth()).toBe(2);
  });

  it('moves a message to the dead-letter queue after maxReceives deliveries', async () => {
    const { queue, deadLetter } = await setup({ maxReceives: 2 });
    await queue.send({ n: 9 });
    for (const count of [1, 2]) {
      const [got] = await queue.receive({ visibilitySeconds: 0, waitSeconds: 2 });
      expect(got?.receiveCount).toBe(count);
    }
    expect(await queue.receive({ waitSeconds: 1 })).toEqual([]);
    const [dead] = await deadLetter.receive({ waitSeconds: 2 });
    expect(dead?.body).toEqual({ n: 9 });
  });

  it('answers ping', async () => {
    const { queue } = await setup();
    await expect(queue.ping()).resolves.toBeUndefined();
  });
}
