import { describe, expect, it, vi } from 'vitest';
import type { GenerationData, GenerationJob, WebhookEventMessage } from '../../core/generation.ts';
import { isTerminal } from '../../core/job.ts';
import type { MessageQueue } from '../../core/ports/message-queue.ts';
import { cancelGeneration } from '../../functions/api/services/cancel.ts';
import { InvalidRequestError } from '../../gpu-worker/src/sampler/index.ts';
import { webhookIdFor } from '../../core/webhooks/events.ts';
import { completeJob } from '../api/harness.ts';
import { stepGate } from './fake-sampler.ts';
import { hook, setup } from './worker-harness.ts';

describe('worker', () => {
  it('runs compatible jobs as one batch and others separately; every job succeeds with its images', async () => {
    const t = await setup();
    const same = [await t.submit({ seed: 1 }), await t.submit({ seed: 2, num_images: 2 })];
    const other = await t.submit({ aspect_ratio: '3:2', seed: 3 });
    t.worker.start();
    await t.until('all done', async () =>
      (await Promise.all([...same, other].map(t.read))).every((j) => j.status === 'succeeded'),
    );
    await t.worker.stop();
    // Both groups came in one receive; with continuous batching they start together.
    const seeds = t.fake.calls.map((c) => c.requests.map((r) => r.seed));
    expect(seeds.sort((x, y) => y.length - x.length)).toEqual([[1, 2, 3], [3]]);
    const two = await t.read(same[1] ?? '');
    expect(two.data.outputs?.map((o) => [o.index, o.seed])).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect((await t.read(other)).data.outputs?.[0]).toMatchObject({ width: 192, height: 128 });
    expect(await t.api.queue.depth()).toBe(0);
    expect(t.events.flatMap((e) => (e.type === 'state' ? [e.state] : []))).toEqual([
      'ready',
      'busy',
      'ready',
      'draining',
      'stopped',
    ]);
  });

  it('throttles progress writes: far fewer than one per step', async () => {
    const t = await setup();
    const id = await t.submit({ steps: 100 });
    t.worker.start();
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    await t.worker.stop();
    const progress = t.events.filter((e) => e.type === 'job_progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThan(50);
  });

  it('charges an attempt when a job starts, not when its message is received', async () => {
    const gate = stepGate();
    // Static: the second group waits for the first (continuous: tests/worker/batching.test.ts).
    const t = await setup({ beforeStep: gate.beforeStep }, { batching: 'static' });
    const first = await t.submit({ seed: 1 });
    const second = await t.submit({ aspect_ratio: '3:2', seed: 2 });
    t.worker.start();
    await t.until('first batch running', () => gate.reached > 0);
    // Both messages were received together; only the first batch has started.
    expect((await t.read(first)).data.attempts).toBe(1);
    const waiting = await t.read(second);
    expect(waiting.status).toBe('queued');
    expect(waiting.data.attempts ?? 0).toBe(0);
    gate.openAll();
    await t.until('both done', async () =>
      (await Promise.all([first, second].map(t.read))).every((j) => j.status === 'succeeded'),
    );
    await t.worker.stop();
    expect((await t.read(second)).data.attempts).toBe(1);
  });

  it('ends a canceled job at the progress write that sees the cancel, and stops the batch within one step', async () => {
    const gate = stepGate();
    const t = await setup({ beforeStep: gate.beforeStep }, { progressIntervalMs: 0 });
    const id = await t.submit({ steps: 100, webhook: hook });
    t.worker.start();
    for (let step = 1; step <= 3; step++) {
      gate.step();
      await t.until(
        `step ${step} written`,
        async () => (await t.read(id)).data.progress?.step === step,
      );
    }
    await cancelGeneration(t.api.jobs, 'tenant-alice', id, new Date());
    gate.step();
    await t.until('canceled', async () => (await t.read(id)).status === 'canceled');
    const ranWhenCanceled = t.fake.stepsRun;
    gate.openAll();
    await t.until('message deleted', async () => (await t.api.queue.depth()) === 0);
    await t.worker.stop();
    // The step in flight when the cancel was seen finished; none after it.
    expect(ranWhenCanceled).toBe(4);
    expect(t.fake.stepsRun - ranWhenCanceled).toBeLessThanOrEqual(1);
    const job = await t.read(id);
    expect(job.data.outputs).toBeUndefined();
    const types = (await t.outboxEvents()).map((e) => e.type);
    expect(types.filter((type) => type !== 'generation.progress')).toEqual([
      'generation.started',
      'generation.canceled',
    ]);
  });

  it('announces a job’s end before deleting its message', async () => {
    const t = await setup();
    const id = await t.submit({ webhook: hook });
    t.worker.start();
    await t.until('deleted', () => t.ops.includes('jobs.delete'));
    await t.worker.stop();
    const announced = t.ops.indexOf('outbox.send generation.succeeded');
    expect(announced).toBeGreaterThanOrEqual(0);
    expect(announced).toBeLessThan(t.ops.indexOf('jobs.delete'));
    expect((await t.read(id)).status).toBe('succeeded');
  });

  it('drops a returning message of a settled job: not run again, not announced again', async () => {
    const t = await setup();
    const id = await t.submit({ webhook: hook });
    t.worker.start();
    await t.until('deleted', () => t.ops.includes('jobs.delete'));
    const before = await t.read(id);
    expect((await t.outboxEvents()).map((e) => e.type)).toContain('generation.succeeded');
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id });
    await t.until('skipped', () =>
      t.events.some((e) => e.type === 'message_skipped' && e.jobId === id),
    );
    await t.worker.stop();
    expect(await t.outboxEvents()).toEqual([]);
    expect((await t.read(id)).version).toBe(before.version);
    expect(t.fake.calls).toHaveLength(1);
    expect(await t.api.queue.depth()).toBe(0);
  });

  it('never takes a job over from itself: a message of a job it holds is deferred, even once the lease ran out', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    // The batch stalls before its first step, so no progress write renews the 1 s lease.
    const t = await setup(
      { beforeStep: (step) => (step === 0 ? held : Promise.resolve()) },
      {
        visibilitySeconds: 1,
      },
    );
    const id = await t.submit({});
    t.worker.start();
    await t.event((e) => e.type === 'job_started' && e.jobId === id);
    // The store refuses the worker's lease renewals (as under the reliability suite's faults),
    // and the lease runs out while the batch still holds the job.
    const put = t.api.jobs.put.bind(t.api.jobs);
    let refuse = true;
    vi.spyOn(t.api.jobs, 'put').mockImplementation((job, expected) =>
      refuse && job.id === id ? Promise.reject(new Error('store fault')) : put(job, expected),
    );
    const running = await t.read(id);
    const past = new Date(Date.now() - 60_000).toISOString();
    await put(
      { ...running, version: running.version + 1, data: { ...running.data, leaseUntil: past } },
      running.version,
    );
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id }); // as a lapsed visibility would
    const skipped = await t.event(
      (e) =>
        e.type === 'message_skipped' && e.jobId === id && e.reason.includes('held by this worker'),
    );
    expect(skipped.type).toBe('message_skipped');
    refuse = false;
    release();
    await t.until('succeeded', async () => (await t.read(id)).status === 'succeeded');
    await t.worker.stop();
    expect(t.events.filter((e) => e.type === 'job_started' && e.jobId === id)).toHaveLength(1);
    expect((await t.read(id)).data.attempts).toBe(1);
  });

  it('announces an ended job whose worker died before announcing it, with its webhook-id', async () => {
    const t = await setup();
    const id = await t.submit({ webhook: hook });
    // A worker wrote the end and died: the message is still queued, no event was sent.
    const ended = await completeJob(t.api.jobs, t.api.blobs, 'tenant-alice', id);
    t.worker.start();
    await t.until('message deleted', async () => (await t.api.queue.depth()) === 0);
    await t.until('skipped', () =>
      t.events.some((e) => e.type === 'message_skipped' && e.jobId === id),
    );
    await t.worker.stop();
    const events = await t.outboxEvents();
    expect(events.map((e) => [e.type, e.id])).toEqual([
      ['generation.succeeded', webhookIdFor(ended, 'generation.succeeded')],
    ]);
    expect(await t.api.jobs.isUnfinished('tenant-alice', id)).toBe(false);
    expect(t.fake.calls).toHaveLength(0);
  });

  it('keeps the message when the end cannot be announced; its return announces it', async () => {
    const t = await setup({}, { visibilitySeconds: 1 });
    let refused = 0;
    const outbox: MessageQueue<WebhookEventMessage> = {
      send: (body, o) => {
        if (body.type === 'generation.succeeded' && refused++ === 0) {
          return Promise.reject(new Error('outbox down'));
        }
        return t.api.outbox.send(body, o);
      },
      receive: (o) => t.api.outbox.receive(o),
      extend: (r, s) => t.api.outbox.extend(r, s),
      release: (r) => t.api.outbox.release(r),
      delete: (r) => t.api.outbox.delete(r),
      depth: () => t.api.outbox.depth(),
      ping: () => t.api.outbox.ping(),
    };
    const worker = t.makeWorker({ outbox });
    const id = await t.submit({ webhook: hook });
    worker.start();
    await t.until('announced on the second try', () => refused === 2);
    await t.until('message deleted', async () => (await t.api.queue.depth()) === 0);
    await worker.stop();
    expect((await t.read(id)).status).toBe('succeeded');
    expect((await t.outboxEvents()).filter((e) => e.type === 'generation.succeeded')).toHaveLength(
      1,
    );
    expect(t.events.some((e) => e.type === 'error' && e.message.includes('come back'))).toBe(true);
    expect(t.fake.calls).toHaveLength(1);
  });

  it('retries a transient sampler failure, then succeeds; the wait shows the error it retries', async () => {
    const t = await setup({
      failCall: (n) => (n === 0 ? new Error('CUDA out of memory') : undefined),
    });
    const id = await t.submit({});
    t.worker.start();
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    await t.worker.stop();
    const job = await t.read(id);
    expect(job.data.attempts).toBe(2);
    expect(job.data.lastError).toBeUndefined();
    const released = t.events.find((e) => e.type === 'job_released');
    expect(released).toMatchObject({ jobId: id });
  });

  it('fails a job whose sampler keeps failing after its attempts, with a retryable code', async () => {
    const t = await setup({ failCall: () => new Error('CUDA out of memory') }, { maxAttempts: 3 });
    const id = await t.submit({ webhook: hook });
    t.worker.start();
    await t.until('failed', async () => (await t.read(id)).status === 'failed');
    await t.until('message deleted', async () => (await t.api.queue.depth()) === 0);
    await t.worker.stop();
    const job = await t.read(id);
    expect(job.data.attempts).toBe(3);
    expect(job.data.error).toMatchObject({ code: 'internal', retryable: true });
    expect(t.fake.calls).toHaveLength(3);
    expect((await t.outboxEvents()).map((e) => e.type)).toContain('generation.failed');
  });

  it('fails a request the sampler refuses at once, not retryable', async () => {
    const t = await setup({ failCall: () => new InvalidRequestError('request: steps too many') });
    const id = await t.submit({});
    t.worker.start();
    await t.until('failed', async () => (await t.read(id)).status === 'failed');
    await t.worker.stop();
    const job = await t.read(id);
    expect(job.data.attempts).toBe(1);
    expect(job.data.error).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(t.fake.calls).toHaveLength(1);
  });

  it('expires a job that waited past its time to live, and fails worn-out and unknown-model jobs', async () => {
    const t = await setup({}, { maxAttempts: 1 });
    const stale = await t.submit({});
    const job = await t.read(stale);
    await t.api.jobs.put<GenerationData>(
      {
        ...job,
        version: job.version + 1,
        data: { ...job.data, expiresAt: '2000-01-01T00:00:00.000Z' },
      },
      job.version,
    );
    // A job that workers already started as often as allowed and never finished (each died).
    const worn = await t.submit({ seed: 9 });
    const p = await t.read(worn);
    await t.api.jobs.put<GenerationData>(
      { ...p, version: p.version + 1, data: { ...p.data, attempts: 1 } },
      p.version,
    );
    const ghost = await t.submit({});
    const g = await t.read(ghost);
    const ghostJob: GenerationJob = {
      ...g,
      version: g.version + 1,
      data: { ...g.data, params: { ...g.data.params, model: 'retired-model' } },
    };
    await t.api.jobs.put(ghostJob, g.version);
    t.worker.start();
    await t.until('all terminal', async () =>
      (await Promise.all([stale, worn, ghost].map(t.read))).every((j) => isTerminal(j.status)),
    );
    await t.worker.stop();
    expect((await t.read(stale)).status).toBe('expired');
    expect(await t.read(worn)).toMatchObject({
      status: 'failed',
      data: { error: { code: 'worker_lost', retryable: true } },
    });
    expect(await t.read(ghost)).toMatchObject({
      status: 'failed',
      data: { error: { code: 'model_not_found', retryable: false } },
    });
    expect(t.fake.calls).toHaveLength(0);
  });

  it('defers a duplicate message of a job a live worker holds: the job runs once', async () => {
    const gate = stepGate();
    const t = await setup({ beforeStep: gate.beforeStep });
    const id = await t.submit({ steps: 20 });
    t.worker.start();
    await t.until('running', () => gate.reached > 0);
    // A second, idle worker receives the duplicate while the first is still generating.
    const second = t.makeWorker();
    second.start();
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id });
    await t.until('deferred', () =>
      t.events.some((e) => e.type === 'message_skipped' && e.reason.includes('live worker')),
    );
    gate.openAll();
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    await Promise.all([t.worker.stop(), second.stop()]);
    expect(t.events.filter((e) => e.type === 'job_started' && e.jobId === id)).toHaveLength(1);
    expect((await t.read(id)).data.attempts).toBe(1);
  });

  it('drains: a batch that cannot finish in time goes back to the queue, its attempt given back', async () => {
    const gate = stepGate();
    const t = await setup({ beforeStep: gate.beforeStep });
    const id = await t.submit({ num_images: 4 });
    t.worker.start();
    await t.until('running', () => gate.reached > 0);
    const stopped = t.worker.stop(0);
    // Let the drain's deadline pass before the batch may take its next step.
    await new Promise((r) => setTimeout(r, 20));
    gate.openAll();
    await stopped;
    const job = await t.read(id);
    expect(job.status).toBe('queued');
    expect(job.startedAt).toBeUndefined();
    expect(job.data.attempts).toBe(0);
    expect(t.events.some((e) => e.type === 'job_released' && e.jobId === id)).toBe(true);
    // The message is visible again at once.
    const [again] = await t.api.queue.receive({ maxMessages: 1, waitSeconds: 0 });
    expect(again?.body.jobId).toBe(id);
  });

  it('runs a job once when two of its messages come in one receive', async () => {
    const t = await setup();
    const id = await t.submit({});
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id });
    t.worker.start();
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    await t.until('both messages gone', async () => (await t.api.queue.depth()) === 0);
    await t.worker.stop();
    expect(t.events.filter((e) => e.type === 'job_started')).toHaveLength(1);
    expect(
      t.events.some((e) => e.type === 'message_skipped' && e.reason.includes('duplicate')),
    ).toBe(true);
    expect((await t.read(id)).data.attempts).toBe(1);
  });
});
