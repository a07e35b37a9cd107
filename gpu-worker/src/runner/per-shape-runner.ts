import { RunnerReleasedError } from './errors.ts';
import type { Runner, RunnerTensor, RunSettings, TensorMap } from './runner.ts';

/**
 * A Runner over one session per input shape, for graphs with convolutions on CUDA. onnxruntime's
 * CUDA Conv runs cuDNN's algorithm search again whenever its input shape differs from the run
 * before, also for a shape it has seen: on the H200 the shipped VAE decoder took 200–350 ms on
 * every change of batch size (40–80 ms with the heuristic search), then 1–8 ms a run. Requests
 * of mixed sizes and batches change it on nearly every decode; a session that only ever sees one
 * shape searches once. The first shape gets the session opened at load (which also checked the
 * file), every other one a session of its own on first use, up to `maxSessions` (then the least
 * recently used one is released).
 */
export class PerShapeRunner implements Runner {
  readonly kind: Runner['kind'];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly #sessions = new Map<string, Promise<Runner>>();
  /** Runs in flight per session: an evicted session is released once they end. */
  readonly #inFlight = new Map<Promise<Runner>, Set<Promise<unknown>>>();
  readonly #open: () => Promise<Runner>;
  readonly #max: number;
  #first: Runner | null;
  #released = false;

  constructor(first: Runner, open: () => Promise<Runner>, maxSessions = 12) {
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${maxSessions}`);
    }
    this.kind = first.kind;
    this.inputNames = first.inputNames;
    this.outputNames = first.outputNames;
    this.#first = first;
    this.#open = open;
    this.#max = maxSessions;
  }

  /** How many sessions are open (one per shape seen, at most maxSessions). */
  get sessions(): number {
    return Math.max(this.#sessions.size, this.#first ? 1 : 0);
  }

  async run(feeds: TensorMap, settings?: RunSettings): Promise<Record<string, RunnerTensor>> {
    if (this.#released) throw new RunnerReleasedError('run() on a released runner');
    const session = this.#sessionFor(
      this.inputNames.map((n) => feeds[n]?.dims.join('x') ?? '-').join(';'),
    );
    // Counted before the first await, so that an eviction meanwhile waits for this run too.
    const run = session.then((s) => s.run(feeds, settings));
    const runs = this.#inFlight.get(session) ?? new Set();
    this.#inFlight.set(session, runs);
    runs.add(run);
    try {
      return await run;
    } finally {
      runs.delete(run);
    }
  }

  /** Releases `session` after the runs in flight on it (the stock binding would not wait). */
  async #releaseWhenIdle(session: Promise<Runner>): Promise<void> {
    await Promise.allSettled([...(this.#inFlight.get(session) ?? [])]);
    this.#inFlight.delete(session);
    await (await session).release();
  }

  #sessionFor(key: string): Promise<Runner> {
    const known = this.#sessions.get(key);
    if (known) {
      // Most recently used last: Map keeps insertion order.
      this.#sessions.delete(key);
      this.#sessions.set(key, known);
      return known;
    }
    let session: Promise<Runner>;
    if (this.#first) {
      session = Promise.resolve(this.#first);
      this.#first = null;
    } else {
      session = this.#open();
      // A failed open is not kept: the next run of that shape tries again.
      session.catch(() => {
        if (this.#sessions.get(key) === session) this.#sessions.delete(key);
      });
    }
    this.#sessions.set(key, session);
    for (const [oldest, evicted] of this.#sessions) {
      if (this.#sessions.size <= this.#max) break;
      this.#sessions.delete(oldest);
      this.#releaseWhenIdle(evicted).catch(() => undefined);
    }
    return session;
  }

  async endProfiling(): Promise<string | null> {
    const first = await [...this.#sessions.values()][0];
    return (first ?? this.#first)?.endProfiling() ?? null;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    if (this.#first) sessions.push(Promise.resolve(this.#first));
    this.#first = null;
    await Promise.all(sessions.map((s) => this.#releaseWhenIdle(s).catch(() => undefined)));
  }
}
