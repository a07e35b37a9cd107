import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../../core/adapters/memory/memory-blob-store.ts';
import { MemoryJobStore } from '../../../core/adapters/memory/memory-job-store.ts';
import { MemoryMessageQueue } from '../../../core/adapters/memory/memory-message-queue.ts';
import type {
  GenerationData,
  GenerationJob,
  JobMessage,
  WebhookEventMessage,
} from '../../../core/generation.ts';
import { sweep } from '../../../core/jobs/sweep.ts';
import { JobNotFoundError } from '../../../core/ports/job-store.ts';
import { jobRecord } from './fixtures.ts';

const T0 = new Date('2026-12-01T12:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const SETTINGS = { visibilitySeconds: 30, maxAttempts: 3, requeueAfterSeconds: 300 };

function record(
  id: string,
  patch: Partial<GenerationJob> = {},
  data: Partial<GenerationData> = {},
) {
  return jobRecord(id, T0.toISOString(), patch, {
    webhook: { url: 'https://hooks.example.com/x' },
    expiresAt: at(3600).toISOString(),
    ...data,
  });
}

function setup() {
  const jobs = new MemoryJobStore();
  const queue = new MemoryMessageQueue<JobMessage>();
  const outbox = new MemoryMessageQueue<WebhookEventMessage>();
  const blobs = new MemoryBlobStore();
  const deps = { jobs, queue, outbox, blobs };
  const drain = async <T>(q: MemoryMessageQueue<T>) => {
    const bodies: T[] = [];
    for (;;) {
      const got = await q.receive({ maxMessages: 10, waitSeconds: 0 });
      if (got.length === 0) return bodies;
      for (const d of got) {
        bodies.push(d.body);
        await q.delete(d.receipt);
      }
    }
  };
  const unfinished = async () => (await jobs.listUnfinished()).refs.map((r) => r.id).sort();
  return { ...deps, deps, drain, unfinished };
}

describe('sweep', () => {
  it('sends the message again for a queued job that waited too long, once per period', async () => {
    const t = setup();
    await t.jobs.create(record('lost'));
    await t.jobs.create(record('fresh', { createdAt: at(200).toISOString() }));
    expect((await sweep(t.deps, SETTINGS, at(100))).requeued).toBe(0);
    const report = await sweep(t.deps, SETTINGS, at(301));
    expect(report).toMatchObject({ checked: 2, requeued: 1, ended: 0 });
    expect(await t.drain(t.queue)).toEqual([{ tenant: 't', jobId: 'lost' }]);
    // Within the period it is left alone; after it, sent again.
    expect((await sweep(t.deps, SETTINGS, at(500))).requeued).toBe(0);
    expect((await sweep(t.deps, SETTINGS, at(700))).requeued).toBe(2);
  });

  it('sends a running job whose worker died (lease ran out a visibility timeout ago) back', async () => {
    const t = setup();
    await t.jobs.create(
      record('held', { status: 'running' }, { attempts: 1, leaseUntil: at(10).toISOString() }),
    );
    expect((await sweep(t.deps, SETTINGS, at(30))).requeued).toBe(0);
    expect((await sweep(t.deps, SETTINGS, at(41))).requeued).toBe(1);
    expect(await t.drain(t.queue)).toEqual([{ tenant: 't', jobId: 'held' }]);
  });

  it('fails a lost job out of attempts with a retryable code, announces it, and drops it', async () => {
    const t = setup();
    await t.jobs.create(
      record('worn', { status: 'running' }, { attempts: 3, leaseUntil: at(0).toISOString() }),
    );
    expect(await sweep(t.deps, SETTINGS, at(31))).toMatchObject({ ended: 1, requeued: 0 });
    const job = await t.jobs.get<GenerationData>('t', 'worn');
    expect(job).toMatchObject({
      status: 'failed',
      data: { error: { code: 'worker_lost', retryable: true } },
    });
    expect((await t.drain(t.outbox)).map((e) => e.type)).toEqual(['generation.failed']);
    expect(await t.unfinished()).toEqual([]);
  });

  it('expires a queued job past its time to live', async () => {
    const t = setup();
    await t.jobs.create(record('old', {}, { expiresAt: at(10).toISOString() }));
    expect((await sweep(t.deps, SETTINGS, at(11))).ended).toBe(1);
    expect((await t.jobs.get('t', 'old')).status).toBe('expired');
  });

  it('announces an ended job nobody announced (its worker died), after one visibility timeout', async () => {
    const t = setup();
    await t.jobs.create(record('done', { status: 'canceled', completedAt: at(0).toISOString() }));
    expect((await sweep(t.deps, SETTINGS, at(10))).settled).toBe(0);
    expect(await t.unfinished()).toEqual(['done']);
    expect((await sweep(t.deps, SETTINGS, at(31))).settled).toBe(1);
    const events = await t.drain(t.outbox);
    expect(events.map((e) => e.type)).toEqual(['generation.canceled']);
    expect(await t.unfinished()).toEqual([]);
  });

  it('drops index entries without a job only once they are old', async () => {
    const t = setup();
    await t.jobs.create(record('real'));
    // An entry whose job never got stored: a create that died half-way.
    await t.jobs.create(record('ghost'));
    const store = t.jobs as unknown as { get: MemoryJobStore['get'] };
    const realGet = store.get.bind(t.jobs);
    store.get = (tenant, id) =>
      id === 'ghost' ? Promise.reject(new JobNotFoundError('no job ghost')) : realGet(tenant, id);
    expect((await sweep(t.deps, SETTINGS, new Date())).dropped).toBe(0);
    expect((await sweep(t.deps, SETTINGS, at(86_400 * 400))).dropped).toBe(1);
  });

  it('two sweepers at once send one message', async () => {
    const t = setup();
    await t.jobs.create(record('lost'));
    const reports = await Promise.all([
      sweep(t.deps, SETTINGS, at(301)),
      sweep(t.deps, SETTINGS, at(301)),
    ]);
    expect(reports.reduce((n, r) => n + r.requeued, 0)).toBe(1);
    expect(await t.drain(t.queue)).toHaveLength(1);
  });
});
