import { randomUUID } from 'node:crypto';
import type {
  Delivery,
  MessageQueue,
  ReceiveOptions,
  SendOptions,
} from '../../ports/message-queue.ts';
import {
  DEFAULT_VISIBILITY_SECONDS,
  delayMs,
  resolveReceive,
  sleep,
  visibilityMs,
} from '../queue-options.ts';

interface Entry<T> {
  readonly id: string;
  readonly body: T;
  /** Epoch ms from which the message may be delivered (delay, or the end of a visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  /** The handle of the latest delivery; older handles are stale. */
  receipt?: string | undefined;
}

export interface MemoryMessageQueueOptions<T> {
  /** Visibility timeout when a receive names none (SQS's default is 30). */
  readonly visibilitySeconds?: number | undefined;
  /** Where a message goes instead of its (maxReceives + 1)-th delivery, as an SQS redrive policy. */
  readonly deadLetter?: { readonly queue: MemoryMessageQueue<T>; readonly maxReceives: number };
}

/**
 * MessageQueue in process memory with SQS semantics: visibility is a deadline checked on every
 * receive (no timers per message), and a long poll sleeps until a send, the next message
 * becoming visible, the wait ending, or the signal aborting.
 */
export class MemoryMessageQueue<T> implements MessageQueue<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #waiters = new Set<() => void>();
  readonly #visibilitySeconds: number;
  readonly #deadLetter: MemoryMessageQueueOptions<T>['deadLetter'];

  constructor(options: MemoryMessageQueueOptions<T> = {}) {
    this.#visibilitySeconds = options.visibilitySeconds ?? DEFAULT_VISIBILITY_SECONDS;
    this.#deadLetter = options.deadLetter;
  }

  send(body: T, options: SendOptions = {}): Promise<void> {
    this.#enqueue(structuredClone(body), Date.now() + delayMs(options.delaySeconds));
    return Promise.resolve();
  }

  async receive(options: ReceiveOptions = {}): Promise<Delivery<T>[]> {
    const {
      maxMessages,
      waitMs,
      visibilityMs: hideMs,
    } = resolveReceive(options, this.#visibilitySeconds);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const taken = this.#take(maxMessages, hideMs);
      const now = Date.now();
      if (taken.length > 0 || now >= deadline || options.signal?.aborted) return taken;
      const until = Math.min(deadline, this.#nextVisibleAt(now));
      await sleep(until - now, options.signal, (wake) => {
        this.#waiters.add(wake);
        return () => this.#waiters.delete(wake);
      });
    }
  }

  extend(receipt: string, seconds: number): Promise<void> {
    const entry = this.#current(receipt);
    if (entry) entry.visibleAt = Date.now() + visibilityMs(seconds);
    return Promise.resolve();
  }

  release(receipt: string): Promise<void> {
    const entry = this.#current(receipt);
    if (entry) {
      entry.visibleAt = Date.now();
      this.#wakeAll();
    }
    return Promise.resolve();
  }

  delete(receipt: string): Promise<void> {
    const entry = this.#current(receipt);
    if (entry) this.#entries.delete(entry.id);
    return Promise.resolve();
  }

  /** Messages not held by a consumer: visible now or delayed (in-flight ones are being worked). */
  depth(): Promise<number> {
    const now = Date.now();
    let waiting = 0;
    for (const entry of this.#entries.values()) {
      if (entry.receipt === undefined || entry.visibleAt <= now) waiting++;
    }
    return Promise.resolve(waiting);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  #enqueue(body: T, visibleAt: number): void {
    const id = randomUUID();
    this.#entries.set(id, { id, body, visibleAt, receiveCount: 0 });
    this.#wakeAll();
  }

  #take(max: number, hideMs: number): Delivery<T>[] {
    const now = Date.now();
    const out: Delivery<T>[] = [];
    for (const entry of this.#entries.values()) {
      if (out.length >= max) break;
      if (entry.visibleAt > now) continue;
      if (this.#deadLetter && entry.receiveCount >= this.#deadLetter.maxReceives) {
        this.#entries.delete(entry.id);
        this.#deadLetter.queue.#enqueue(entry.body, now);
        continue;
      }
      entry.receiveCount++;
      entry.visibleAt = now + hideMs;
      entry.receipt = `${entry.id}:${randomUUID()}`;
      out.push({
        body: structuredClone(entry.body),
        receipt: entry.receipt,
        receiveCount: entry.receiveCount,
      });
    }
    return out;
  }

  #nextVisibleAt(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) {
      if (entry.visibleAt > now) next = Math.min(next, entry.visibleAt);
    }
    return next;
  }

  #current(receipt: string): Entry<T> | undefined {
    const entry = this.#entries.get(receipt.split(':')[0] ?? '');
    return entry?.receipt === receipt ? entry : undefined;
  }

  #wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
