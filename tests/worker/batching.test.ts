/**
 * DITSERVE_BATCHING: continuous intake (the worker keeps receiving while the images in flight
 * leave room, and starts what arrives next to the batches running) against static (what one
 * receive brought, group after group, then the next receive). The fake sampler's steps wait for
 * the test's gate, so "still generating" is a fact, not a matter of timing.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../gpu-worker/src/worker/state.ts';
import { stepGate } from './fake-sampler.ts';
import { setup } from './worker-harness.ts';

const started = (id: string) => (e: WorkerEvent) => e.type === 'job_started' && e.jobId === id;
const finished = (id: string) => (e: WorkerEvent) => e.type === 'job_finished' && e.jobId === id;
const released = (id: string) => (e: WorkerEvent) => e.type === 'job_released' && e.jobId === id;

describe('continuous batching', () => {
  it('starts a job that arrives while another is generating at once, next to it', async () => {
    const gate = stepGate();
    const t = await setup({ beforeStep: gate.beforeStep }, { batching: 'continuous' });
    const first = await t.submit({ seed: 1 });
    t.worker.start();
    await gate.reachedAt(1);
    // It polled again as soon as the first batch started (the static test relies on this).
    expect(t.ops.filter((op) => op === 'jobs.receive').length).toBeGreaterThanOrEqual(2);
    const second = await t.submit({ seed: 2 });
    await t.event(started(second));
    // Both are in the sampler, and no step has been let go: the first is still generating.
    await gate.reachedAt(2);
    expect(t.fake.stepsRun).toBe(0);
    expect((await t.read(first)).status).toBe('running');
    expect(t.fake.calls.map((c) => c.requests.map((r) => r.seed))).toEqual([[1], [2]]);
    gate.openAll();
    await Promise.all([t.event(finished(first)), t.event(finished(second))]);
    await t.until('idle again', () => t.worker.state === 'ready');
    await t.worker.stop();
    expect((await Promise.all([first, second].map(t.read))).map((j) => j.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
    // Busy from the first receive until both were done.
    expect(t.events.flatMap((e) => (e.type === 'state' ? [e.state] : []))).toEqual([
      'ready',
      'busy',
      'ready',
      'draining',
      'stopped',
    ]);
  });

  it('holds a received job that does not fit next to the images running: uncharged, and no more polls, until there is room', async () => {
    const gate = stepGate();
    const t = await setup(
      { beforeStep: gate.beforeStep },
      { batching: 'continuous', maxBatchImages: 2 },
    );
    const first = await t.submit({ seed: 1, num_images: 2 });
    const second = await t.submit({ seed: 5 });
    t.worker.start();
    await gate.reachedAt(1);
    // Both came in one receive; the second's image does not fit next to the first's two.
    expect(t.ops).toContain(`jobs.received ${second}`);
    const waiting = await t.read(second);
    expect(waiting.status).toBe('queued');
    expect(waiting.data.attempts ?? 0).toBe(0);
    expect(t.ops.filter((op) => op === 'jobs.receive')).toHaveLength(1);
    gate.openAll();
    await t.event(finished(second));
    await t.worker.stop();
    expect(t.ops.indexOf(`job_finished ${first}`)).toBeLessThan(
      t.ops.indexOf(`job_started ${second}`),
    );
    expect((await t.read(second)).data.attempts).toBe(1);
  });
});

describe('static batching', () => {
  it('does not start a job that arrives while another is generating until that batch is done', async () => {
    const gate = stepGate();
    const t = await setup({ beforeStep: gate.beforeStep }, { batching: 'static' });
    const first = await t.submit({ seed: 1 });
    t.worker.start();
    await gate.reachedAt(1);
    // A continuous worker has polled again by now; a static one polls only once idle.
    expect(t.ops.filter((op) => op === 'jobs.receive')).toHaveLength(1);
    const second = await t.submit({ seed: 2 });
    gate.openAll();
    await t.event(finished(second));
    await t.worker.stop();
    const at = (op: string) => t.ops.indexOf(op);
    const receives = t.ops.flatMap((op, i) => (op === 'jobs.receive' ? [i] : []));
    expect(receives[1]).toBeGreaterThan(at(`job_finished ${first}`));
    expect(at(`job_finished ${first}`)).toBeLessThan(at(`job_started ${second}`));
    expect(t.fake.calls.map((c) => c.requests.map((r) => r.seed))).toEqual([[1], [2]]);
  });
});

describe('a drain during concurrent batches', () => {
  /**
   * a and b run at once (two sizes: two batches); c (four images) was received but does not
   * fit next to them, so it waits. Then the worker drains.
   */
  async function threeJobs() {
    const gate = stepGate();
    const t = await setup(
      { beforeStep: gate.beforeStep },
      { batching: 'continuous', maxBatchImages: 4 },
    );
    const a = await t.submit({ seed: 1 });
    t.worker.start();
    await t.event(started(a));
    const b = await t.submit({ seed: 2, aspect_ratio: '3:2' });
    await t.event(started(b));
    const c = await t.submit({ seed: 3, num_images: 4 });
    await t.ops.when(`jobs.received ${c}`);
    await gate.reachedAt(2);
    return { gate, t, a, b, c };
  }

  it('past its deadline: the running batches stop and every job goes back to the queue, uncharged', async () => {
    const { gate, t, a, b, c } = await threeJobs();
    const stopped = t.worker.stop(0);
    // c never started: it goes back at once.
    await t.event(released(c));
    // After the drain's 0 ms deadline (timers of one delay fire in the order they were set).
    await new Promise((r) => setTimeout(r, 0));
    gate.openAll();
    await stopped;
    for (const id of [a, b, c]) {
      const job = await t.read(id);
      expect(job.status, id).toBe('queued');
      expect(job.startedAt, id).toBeUndefined();
      expect(job.data.attempts ?? 0, id).toBe(0);
      expect(t.events.some(released(id)), id).toBe(true);
    }
    // Every message is visible again at once.
    const again = await t.api.queue.receive({ maxMessages: 10, waitSeconds: 0 });
    expect(again.map((d) => d.body.jobId).sort()).toEqual([a, b, c].sort());
    expect(t.worker.state).toBe('stopped');
  });

  it('in time: the running batches finish, the waiting job goes back at once', async () => {
    const { gate, t, a, b, c } = await threeJobs();
    const stopped = t.worker.stop(30_000);
    await t.event(released(c));
    gate.openAll();
    await stopped;
    expect((await t.read(a)).status).toBe('succeeded');
    expect((await t.read(b)).status).toBe('succeeded');
    const waiting = await t.read(c);
    expect(waiting.status).toBe('queued');
    expect(waiting.data.attempts ?? 0).toBe(0);
    const again = await t.api.queue.receive({ maxMessages: 10, waitSeconds: 0 });
    expect(again.map((d) => d.body.jobId)).toEqual([c]);
    expect(t.fake.calls).toHaveLength(2);
  });
});
