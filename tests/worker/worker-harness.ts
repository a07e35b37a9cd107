import { expect } from 'vitest';
import type { GenerationData, JobMessage, WebhookEventMessage } from '../../core/generation.ts';
import type { MessageQueue } from '../../core/ports/message-queue.ts';
import type { WorkerEvent } from '../../gpu-worker/src/worker/state.ts';
import { Worker, type WorkerOptions } from '../../gpu-worker/src/worker/worker.ts';
import { makeApi } from '../api/harness.ts';
import { fakeSampler, type FakeSamplerOptions } from './fake-sampler.ts';

/** The log of queue calls and job events; `when(op)` resolves once `op` is in it. */
class Ops extends Array<string> {
  // filter(), map() and the like make plain arrays.
  static override get [Symbol.species]() {
    return Array;
  }

  readonly #latches = new Map<string, (() => void)[]>();

  override push(...ops: string[]): number {
    const n = super.push(...ops);
    for (const op of ops) {
      for (const resolve of this.#latches.get(op) ?? []) resolve();
      this.#latches.delete(op);
    }
    return n;
  }

  when(op: string): Promise<void> {
    if (this.includes(op)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#latches.set(op, [...(this.#latches.get(op) ?? []), resolve]);
    });
  }
}

/**
 * Records receives (when asked), sends and deletes in one log, with the worker's job events, so
 * a test can check their order.
 */
function logged<T>(queue: MessageQueue<T>, ops: Ops, name: string, describe: (b: T) => string) {
  const wrapped: MessageQueue<T> = {
    send: async (body, o) => {
      await queue.send(body, o);
      ops.push(`${name}.send ${describe(body)}`);
    },
    receive: async (o) => {
      ops.push(`${name}.receive`);
      const got = await queue.receive(o);
      for (const d of got) ops.push(`${name}.received ${describe(d.body)}`);
      return got;
    },
    extend: (r, s) => queue.extend(r, s),
    release: (r) => queue.release(r),
    delete: async (r) => {
      ops.push(`${name}.delete`);
      await queue.delete(r);
    },
    depth: () => queue.depth(),
    ping: () => queue.ping(),
  };
  return wrapped;
}

/** Every event in the outbox so far, taken out of it (so the next call sees only newer ones). */
export async function drainOutbox(
  outbox: MessageQueue<WebhookEventMessage>,
): Promise<WebhookEventMessage[]> {
  const seen: WebhookEventMessage[] = [];
  for (;;) {
    const batch = await outbox.receive({ maxMessages: 10, waitSeconds: 0 });
    if (batch.length === 0) return seen;
    for (const d of batch) {
      seen.push(d.body);
      await outbox.delete(d.receipt);
    }
  }
}

/** The API (memory adapters) and workers over a fake Sampler, with the workers' events kept. */
export async function setup(sampler: FakeSamplerOptions = {}, worker: Partial<WorkerOptions> = {}) {
  const api = await makeApi({ limits: { requestsPerSecond: 1000, burst: 1000 } });
  const events: WorkerEvent[] = [];
  const ops = new Ops();
  const listeners = new Set<(e: WorkerEvent) => void>();
  const onEvent = (e: WorkerEvent) => {
    events.push(e);
    if (e.type === 'job_started' || e.type === 'job_finished' || e.type === 'job_released') {
      ops.push(`${e.type} ${e.jobId}`);
    }
    for (const listener of [...listeners]) listener(e);
  };
  /** The first event, seen already or still to come, that `match` picks: a latch on the worker. */
  const event = (match: (e: WorkerEvent) => boolean) =>
    new Promise<WorkerEvent>((resolve) => {
      const seen = events.find(match);
      if (seen) {
        resolve(seen);
        return;
      }
      const listener = (e: WorkerEvent) => {
        if (!match(e)) return;
        listeners.delete(listener);
        resolve(e);
      };
      listeners.add(listener);
    });
  const fake = fakeSampler(sampler);
  const queue = logged<JobMessage>(api.queue, ops, 'jobs', (b) => b.jobId);
  const outbox = logged<WebhookEventMessage>(api.outbox, ops, 'outbox', (b) => b.type);
  const makeWorker = (overrides: Partial<WorkerOptions> = {}) =>
    new Worker({
      jobs: api.jobs,
      queue,
      blobs: api.blobs,
      outbox,
      sampler: fake,
      pollWaitSeconds: 1,
      visibilitySeconds: 30,
      progressIntervalMs: 100,
      retryDelaySeconds: 0,
      onEvent,
      ...worker,
      ...overrides,
    });
  const submit = async (body: Record<string, unknown>) => {
    const res = await api.call(api.alice, 'POST', '/v1/generations', {
      prompt: 'a red circle',
      steps: 8,
      ...body,
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const read = (id: string) => api.jobs.get<GenerationData>('tenant-alice', id);
  const until = async (what: string, probe: () => Promise<boolean> | boolean, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const outboxEvents = () => drainOutbox(api.outbox);
  return {
    api,
    fake,
    worker: makeWorker(),
    makeWorker,
    events,
    event,
    ops,
    submit,
    read,
    until,
    outboxEvents,
  };
}

export const hook = { url: 'https://hooks.example.com/x' };
