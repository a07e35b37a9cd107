import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import type { JobMessage, WebhookEventMessage } from '../../core/generation.ts';
import { createSweepHandler } from '../../functions/sweeper/handler.ts';
import { makeApi } from '../api/harness.ts';

describe('the sweeper Lambda handler', () => {
  it('sends a stored job that never got its message back to the queue, and logs the pass', async () => {
    const api = await makeApi();
    const res = await api.call(api.alice, 'POST', '/v1/generations', { prompt: 'a red circle' });
    const { id } = (await res.json()) as { id: string };
    // The message is lost (say, dead-lettered).
    const [lost] = await api.queue.receive({ maxMessages: 1 });
    if (lost) await api.queue.delete(lost.receipt);
    const lines: Record<string, unknown>[] = [];
    const handler = createSweepHandler(
      { jobs: api.jobs, queue: api.queue, outbox: api.outbox, blobs: api.blobs },
      { visibilitySeconds: 30, maxAttempts: 3, requeueAfterSeconds: 1 },
      (message, fields) => lines.push({ message, ...fields }),
    );
    await new Promise((r) => setTimeout(r, 1100));
    expect(await handler()).toMatchObject({ checked: 1, requeued: 1, errors: 0 });
    const [again] = await api.queue.receive({ maxMessages: 1 });
    expect(again?.body.jobId).toBe(id);
    expect(lines).toContainEqual(expect.objectContaining({ message: 'sweep', requeued: 1 }));
  });

  it('counts the jobs it could not check instead of failing the pass', async () => {
    const jobs = new MemoryJobStore();
    await jobs.create({
      id: 'a',
      tenant: 't',
      status: 'queued',
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      data: {},
    });
    const broken: MemoryJobStore = Object.assign(jobs, {
      get: () => Promise.reject(new Error('store down')),
    });
    const handler = createSweepHandler(
      {
        jobs: broken,
        queue: new MemoryMessageQueue<JobMessage>(),
        outbox: new MemoryMessageQueue<WebhookEventMessage>(),
        blobs: new MemoryBlobStore(),
      },
      { visibilitySeconds: 30, maxAttempts: 3, requeueAfterSeconds: 1 },
      () => undefined,
    );
    expect(await handler()).toMatchObject({ checked: 1, errors: 1 });
  });
});
