import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationData, GenerationJob } from '../../core/generation.ts';
import { isTerminal } from '../../core/job.ts';
import { loadModel, type DitModel } from '../../gpu-worker/src/sampler/index.ts';
import type { WorkerEvent } from '../../gpu-worker/src/worker/state.ts';
import { Worker } from '../../gpu-worker/src/worker/worker.ts';
import { cancelGeneration } from '../../functions/api/services/cancel.ts';
import { makeApi, MODEL_DIR } from '../api/harness.ts';

let model: DitModel;

beforeAll(async () => {
  model = await loadModel(MODEL_DIR, { device: 'cpu', warmup: true });
});

afterAll(async () => {
  await model.release();
});

/** The API (memory adapters) and a worker on the same ports, with the worker's events kept. */
async function setup(options: { maxAttempts?: number } = {}) {
  const api = await makeApi({ limits: { requestsPerSecond: 1000, burst: 1000 } });
  const events: WorkerEvent[] = [];
  const makeWorker = () =>
    new Worker({
      jobs: api.jobs,
      queue: api.queue,
      blobs: api.blobs,
      outbox: api.outbox,
      models: new Map([[model.config.manifest.name, model]]),
      pollWaitSeconds: 1,
      visibilitySeconds: 30,
      progressIntervalMs: 100,
      maxAttempts: options.maxAttempts ?? 3,
      onEvent: (e) => events.push(e),
    });
  const worker = makeWorker();
  const submit = async (body: Record<string, unknown>) => {
    const res = await api.call(api.alice, 'POST', '/v1/generations', {
      prompt: 'a red circle',
      ...body,
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const read = (id: string) => api.jobs.get<GenerationData>('tenant-alice', id);
  const until = async (what: string, probe: () => Promise<boolean> | boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const outboxTypes = async () => {
    const types: string[] = [];
    for (;;) {
      const batch = await api.outbox.receive({ maxMessages: 10, waitSeconds: 0 });
      if (batch.length === 0) return types;
      for (const d of batch) {
        types.push(d.body.type);
        await api.outbox.delete(d.receipt);
      }
    }
  };
  return { api, worker, makeWorker, events, submit, read, until, outboxTypes };
}

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
    const inference = (id: string) =>
      t.events.flatMap((e) =>
        e.type === 'job_finished' && e.jobId === id ? [e.timings.inferenceMs] : [],
      )[0];
    // One sampler call for both 128×128 jobs: they report the same batch's inference time.
    expect(inference(same[0] ?? '')).toBe(inference(same[1] ?? ''));
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

  it('honours a cancel between steps: the job ends canceled, without outputs, with a webhook', async () => {
    const t = await setup();
    const id = await t.submit({ steps: 100, webhook: { url: 'https://hooks.example.com/x' } });
    t.worker.start();
    await t.until('running with progress', () => t.events.some((e) => e.type === 'job_progress'));
    await cancelGeneration(t.api.jobs, 'tenant-alice', id, new Date());
    await t.until('terminal', async () => isTerminal((await t.read(id)).status));
    await t.worker.stop();
    const job = await t.read(id);
    expect(job.status).toBe('canceled');
    expect(job.data.outputs).toBeUndefined();
    expect(await t.api.queue.depth()).toBe(0);
    const types = await t.outboxTypes();
    expect(types.filter((type) => type !== 'generation.progress')).toEqual([
      'generation.started',
      'generation.canceled',
    ]);
    // It stopped early: nowhere near all 100 steps were reported.
    const steps = t.events.flatMap((e) => (e.type === 'job_progress' ? [e.step] : []));
    expect(Math.max(...steps)).toBeLessThan(100);
  });

  it('deletes a redelivered message of a finished job without running it again', async () => {
    const t = await setup();
    const id = await t.submit({});
    t.worker.start();
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    const before = await t.read(id);
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id });
    await t.until('skipped', () =>
      t.events.some((e) => e.type === 'message_skipped' && e.jobId === id),
    );
    await t.worker.stop();
    expect((await t.read(id)).version).toBe(before.version);
    expect(await t.api.queue.depth()).toBe(0);
  });

  it('expires a job that waited past its time to live, and fails poison and unknown-model jobs', async () => {
    const t = await setup({ maxAttempts: 1 });
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
    const poison = await t.submit({ seed: 9 });
    // A job that workers already started as often as allowed and never finished (each died).
    const p = await t.read(poison);
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
      (await Promise.all([stale, poison, ghost].map(t.read))).every((j) => isTerminal(j.status)),
    );
    await t.worker.stop();
    expect((await t.read(stale)).status).toBe('expired');
    const poisoned = await t.read(poison);
    const ghosted = await t.read(ghost);
    expect(poisoned.status).toBe('failed');
    expect(poisoned.data.error).toMatchObject({ code: 'worker_lost', retryable: false });
    expect(ghosted.status).toBe('failed');
    expect(ghosted.data.error).toMatchObject({ code: 'model_not_found', retryable: false });
  });

  it('defers a duplicate message of a job a live worker holds: the job runs once', async () => {
    const t = await setup();
    const id = await t.submit({ steps: 100 });
    t.worker.start();
    await t.until('running with progress', () => t.events.some((e) => e.type === 'job_progress'));
    // A second, idle worker receives the duplicate while the first is still generating.
    const second = t.makeWorker();
    second.start();
    await t.api.queue.send({ tenant: 'tenant-alice', jobId: id });
    await t.until('deferred', () =>
      t.events.some((e) => e.type === 'message_skipped' && e.reason.includes('live worker')),
    );
    await t.until('done', async () => (await t.read(id)).status === 'succeeded');
    await Promise.all([t.worker.stop(), second.stop()]);
    expect(t.events.filter((e) => e.type === 'job_started' && e.jobId === id)).toHaveLength(1);
    expect((await t.read(id)).data.attempts).toBe(1);
  });

  it('drains: a batch that cannot finish in time goes back to the queue, ready for another worker', async () => {
    const t = await setup();
    const id = await t.submit({ steps: 100, num_images: 4 });
    t.worker.start();
    await t.until('running with progress', () => t.events.some((e) => e.type === 'job_progress'));
    await t.worker.stop(0);
    const job = await t.read(id);
    expect(job.status).toBe('queued');
    expect(job.startedAt).toBeUndefined();
    // Being drained is not the job's fault: it does not count against its attempts.
    expect(job.data.attempts).toBe(0);
    expect(t.events.some((e) => e.type === 'job_released' && e.jobId === id)).toBe(true);
    // The message is visible again at once.
    const [again] = await t.api.queue.receive({ maxMessages: 1, waitSeconds: 0 });
    expect(again?.body.jobId).toBe(id);
  });
});
