import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
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
import { atBoundary, checkFolder, errnoOf, writeFileAtomic } from './fs-files.ts';

export interface FsMessageQueueOptions {
  /** The queue's folder; messages live in `{dir}/messages`, one file each. */
  readonly dir: string;
  /** Visibility timeout when a receive names none. */
  readonly visibilitySeconds?: number | undefined;
  /**
   * Where a message goes instead of its (maxReceives + 1)-th delivery: another FsMessageQueue's
   * folder on the same filesystem (the move is a rename).
   */
  readonly deadLetter?: { readonly dir: string; readonly maxReceives: number } | undefined;
  /** How often a long poll looks again when no filesystem event woke it (ms). */
  readonly pollMs?: number | undefined;
}

/**
 * A message file's name carries all of its mutable state, so that every state change is one
 * atomic rename: `{visibleAt ms, 15 digits}.{id}.{receiveCount}.{token}.json`. Sorting names
 * sorts by visibility time; the token is new for every delivery, so a name never comes back.
 */
interface MessageName {
  readonly visibleAt: number;
  readonly id: string;
  readonly receiveCount: number;
  readonly token: string;
}

const NAME = /^(\d{15})\.([0-9a-f]{16})\.(\d+)\.([0-9a-f]{12})\.json$/;
const RECEIPT = /^[0-9a-f]{16}\.\d+\.[0-9a-f]{12}$/;

function format(m: MessageName): string {
  return `${String(m.visibleAt).padStart(15, '0')}.${m.id}.${m.receiveCount}.${m.token}.json`;
}

function parse(name: string): MessageName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  const [, visibleAt, id, count, token] = match;
  if (!visibleAt || !id || !count || !token) return undefined;
  return { visibleAt: Number(visibleAt), id, receiveCount: Number(count), token };
}

function receiptOf(m: MessageName): string {
  return `${m.id}.${m.receiveCount}.${m.token}`;
}

const newToken = (): string => randomBytes(6).toString('hex');

/**
 * MessageQueue in a local folder, durable across restarts and safe for several processes on one
 * host. Receiving a message is renaming its file to a name with a later visibleAt and a new
 * token; rename() of a given name succeeds for exactly one caller, so two receivers never both
 * get a visible message, and a message leaves the folder only by delete or the dead-letter move
 * (at least once). Long polls wake on fs.watch events and look again every `pollMs` anyway.
 */
export class FsMessageQueue<T> implements MessageQueue<T> {
  readonly #messages: string;
  readonly #visibilitySeconds: number;
  readonly #deadLetter: { readonly messages: string; readonly maxReceives: number } | undefined;
  readonly #pollMs: number;

  constructor(options: FsMessageQueueOptions) {
    this.#messages = join(options.dir, 'messages');
    this.#visibilitySeconds = options.visibilitySeconds ?? DEFAULT_VISIBILITY_SECONDS;
    this.#deadLetter = options.deadLetter && {
      messages: join(options.deadLetter.dir, 'messages'),
      maxReceives: options.deadLetter.maxReceives,
    };
    this.#pollMs = options.pollMs ?? 250;
  }

  send(body: T, options: SendOptions = {}): Promise<void> {
    return atBoundary(async () => {
      const name: MessageName = {
        visibleAt: Date.now() + delayMs(options.delaySeconds),
        id: randomBytes(8).toString('hex'),
        receiveCount: 0,
        token: newToken(),
      };
      await writeFileAtomic(join(this.#messages, format(name)), JSON.stringify({ body }));
    });
  }

  receive(options: ReceiveOptions = {}): Promise<Delivery<T>[]> {
    return atBoundary(async () => {
      const {
        maxMessages,
        waitMs,
        visibilityMs: hideMs,
      } = resolveReceive(options, this.#visibilitySeconds);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const taken = await this.#take(maxMessages, hideMs);
        const now = Date.now();
        if (taken.length > 0 || now >= deadline || options.signal?.aborted) return taken;
        await sleep(Math.min(deadline - now, this.#pollMs), options.signal, (wake) =>
          this.#watch(wake),
        );
      }
    });
  }

  extend(receipt: string, seconds: number): Promise<void> {
    return this.#move(receipt, Date.now() + visibilityMs(seconds));
  }

  release(receipt: string): Promise<void> {
    return this.#move(receipt, Date.now());
  }

  delete(receipt: string): Promise<void> {
    return atBoundary(async () => {
      const name = await this.#find(receipt);
      // ENOENT: another receiver took the message since we looked; the receipt is stale.
      if (name) await unlink(join(this.#messages, name)).catch(ignoreMissing);
    });
  }

  /** Messages not held by a receiver: never delivered yet (delayed too) or visible again. */
  depth(): Promise<number> {
    return atBoundary(async () => {
      const now = Date.now();
      return (await this.#names()).filter((m) => m.receiveCount === 0 || m.visibleAt <= now).length;
    });
  }

  ping(): Promise<void> {
    return atBoundary(() => checkFolder(this.#messages));
  }

  async #names(): Promise<MessageName[]> {
    try {
      return (await readdir(this.#messages)).sort().flatMap((name) => parse(name) ?? []);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw error;
    }
  }

  async #take(max: number, hideMs: number): Promise<Delivery<T>[]> {
    const now = Date.now();
    const out: Delivery<T>[] = [];
    for (const current of await this.#names()) {
      if (out.length >= max || current.visibleAt > now) break;
      const from = join(this.#messages, format(current));
      if (this.#deadLetter && current.receiveCount >= this.#deadLetter.maxReceives) {
        const dead = { visibleAt: now, id: current.id, receiveCount: 0, token: newToken() };
        await mkdir(this.#deadLetter.messages, { recursive: true });
        await rename(from, join(this.#deadLetter.messages, format(dead))).catch(ignoreMissing);
        continue;
      }
      const next: MessageName = {
        visibleAt: Date.now() + hideMs,
        id: current.id,
        receiveCount: current.receiveCount + 1,
        token: newToken(),
      };
      const to = join(this.#messages, format(next));
      try {
        await rename(from, to);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') continue; // another receiver won this one
        throw error;
      }
      const body = await this.#readBody(to);
      if (body)
        out.push({ body: body.value, receipt: receiptOf(next), receiveCount: next.receiveCount });
    }
    return out;
  }

  async #readBody(path: string): Promise<{ value: T } | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { body: T };
      return { value: parsed.body };
    } catch (error) {
      // Only with a zero visibility timeout can another receiver have moved it on already.
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async #find(receipt: string): Promise<string | undefined> {
    if (!RECEIPT.test(receipt)) return undefined;
    const suffix = `.${receipt}.json`;
    return (await this.#names()).map(format).find((name) => name.endsWith(suffix));
  }

  #move(receipt: string, visibleAt: number): Promise<void> {
    return atBoundary(async () => {
      const name = await this.#find(receipt);
      const current = name && parse(name);
      if (!name || !current) return;
      await rename(
        join(this.#messages, name),
        join(this.#messages, format({ ...current, visibleAt })),
      ).catch(ignoreMissing);
    });
  }

  #watch(wake: () => void): () => void {
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.#messages, wake);
      watcher.on('error', () => undefined);
    } catch {
      // No folder yet or no inotify: the poll interval still finds new messages.
    }
    return () => watcher?.close();
  }
}

function ignoreMissing(error: unknown): void {
  if (errnoOf(error) !== 'ENOENT') throw error;
}
