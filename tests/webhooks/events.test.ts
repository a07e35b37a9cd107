import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { WEBHOOK_EVENT_TYPES } from '../../core/generation.ts';
import {
  buildWebhookEvent,
  eventTypeForStatus,
  webhookBody,
  webhookIdFor,
} from '../../core/webhooks/events.ts';
import { enqueueWebhookEvent, redeliverWebhook } from '../../core/webhooks/outbox.ts';
import { ProgressThrottle } from '../../core/webhooks/progress-throttle.ts';
import { makeJob } from './fixtures.ts';
import { RecordingOutbox } from './harness.ts';

const output = {
  key: 'jobs/acme/gen_test1/out/0.png',
  index: 0,
  seed: 42,
  contentType: 'image/png',
  bytes: 1234,
  width: 64,
  height: 64,
};

describe('webhook events', () => {
  it('builds a succeeded event with outputs, metadata and timings in the documented shape', () => {
    const job = makeJob('succeeded', undefined, { outputs: [output] });
    const event = buildWebhookEvent(job, 'generation.succeeded', {
      outputUrls: ['https://cdn/0.png'],
    });
    expect(event).toMatchObject({
      tenant: 'acme',
      jobId: 'gen_test1',
      type: 'generation.succeeded',
      url: 'https://hooks.example.com/ditserve',
      timestamp: '2025-01-01T00:00:05.000Z',
    });
    expect(event?.id).toMatch(/^msg_[A-Za-z0-9_-]{27}$/);
    if (!event) throw new Error('the job wants generation.succeeded');
    expect(JSON.parse(webhookBody(event))).toEqual({
      type: 'generation.succeeded',
      timestamp: '2025-01-01T00:00:05.000Z',
      data: {
        id: 'gen_test1',
        object: 'generation',
        status: 'succeeded',
        model: 'shapes-mmdit-s',
        outputs: [
          {
            index: 0,
            seed: 42,
            content_type: 'image/png',
            bytes: 1234,
            width: 64,
            height: 64,
            url: 'https://cdn/0.png',
          },
        ],
        metadata: { order: 'A-1' },
        timings: {
          created_at: '2025-01-01T00:00:00.000Z',
          started_at: '2025-01-01T00:00:01.000Z',
          completed_at: '2025-01-01T00:00:05.000Z',
        },
      },
    });
  });

  it('carries progress while running and the error of a failed job', () => {
    const running = makeJob('running', undefined, { progress: { step: 3, total: 8 } });
    const now = new Date('2025-01-01T00:00:03Z');
    const progress = buildWebhookEvent(running, 'generation.progress', { now });
    expect(progress?.data).toMatchObject({
      status: 'running',
      progress: { step: 3, total: 8, percent: 37.5 },
    });
    expect(progress?.timestamp).toBe(now.toISOString());

    const error = { code: 'internal' as const, message: 'boom', retryable: false };
    const failed = buildWebhookEvent(makeJob('failed', undefined, { error }), 'generation.failed');
    expect(failed?.data).toMatchObject({ status: 'failed', error });
  });

  it('respects the webhook event filter and jobs without a webhook', () => {
    const filtered = makeJob('succeeded', {
      url: 'https://h.example.com/',
      events: ['generation.failed'],
    });
    expect(buildWebhookEvent(filtered, 'generation.succeeded')).toBeUndefined();
    expect(buildWebhookEvent(filtered, 'generation.failed')).toBeDefined();
    const all = makeJob('running');
    for (const type of WEBHOOK_EVENT_TYPES) expect(buildWebhookEvent(all, type)).toBeDefined();
    expect(
      buildWebhookEvent(
        makeJob('succeeded', undefined, { webhook: undefined }),
        'generation.succeeded',
      ),
    ).toBeUndefined();
  });

  it('derives stable webhook-ids: same event same id, different event or step different id', () => {
    const a = makeJob('running', undefined, { progress: { step: 1, total: 8 } });
    const b = makeJob('running', undefined, { progress: { step: 2, total: 8 } });
    expect(webhookIdFor(a, 'generation.progress')).toBe(
      webhookIdFor({ ...a, version: 9 }, 'generation.progress'),
    );
    expect(webhookIdFor(a, 'generation.progress')).not.toBe(webhookIdFor(b, 'generation.progress'));
    expect(webhookIdFor(a, 'generation.started')).not.toBe(
      webhookIdFor({ ...a, data: { ...a.data, attempts: 2 } }, 'generation.started'),
    );
    expect(webhookIdFor(a, 'generation.succeeded')).not.toBe(
      webhookIdFor({ ...a, tenant: 'other' }, 'generation.succeeded'),
    );
  });

  it('announces each status with its event; an expired job as generation.failed', () => {
    expect(eventTypeForStatus('queued')).toBeUndefined();
    expect(eventTypeForStatus('running')).toBe('generation.started');
    expect(eventTypeForStatus('canceled')).toBe('generation.canceled');
    expect(eventTypeForStatus('expired')).toBe('generation.failed');
  });
});

describe('outbox building blocks', () => {
  it('enqueues only the events the webhook wants', async () => {
    const outbox = new RecordingOutbox();
    const job = makeJob('running', {
      url: 'https://h.example.com/',
      events: ['generation.succeeded'],
    });
    expect(await enqueueWebhookEvent(outbox, job, 'generation.started')).toBeUndefined();
    expect(
      await enqueueWebhookEvent(outbox, makeJob('succeeded'), 'generation.succeeded'),
    ).toBeDefined();
    expect(outbox.sent.map((s) => s.body.type)).toEqual(['generation.succeeded']);
  });

  it('redelivers the terminal event with the original webhook-id and a fresh attempt count', async () => {
    const jobs = new MemoryJobStore();
    const outbox = new RecordingOutbox();
    const job = makeJob('succeeded', undefined, { outputs: [output] });
    await jobs.create(job);
    const original = buildWebhookEvent(job, 'generation.succeeded');

    const again = await redeliverWebhook({ jobs, outbox }, 'acme', 'gen_test1');

    expect(again).toEqual({ ...original, attempt: 0 });
    expect(outbox.sent).toEqual([{ body: again, delaySeconds: undefined }]);
  });

  it('refuses to redeliver for a running job, a job without webhook, or an unknown job', async () => {
    const jobs = new MemoryJobStore();
    const outbox = new RecordingOutbox();
    await jobs.create(makeJob('running'));
    await jobs.create({
      ...makeJob('failed', undefined),
      id: 'gen_nohook',
      data: { ...makeJob('failed').data, webhook: undefined },
    });
    await expect(redeliverWebhook({ jobs, outbox }, 'acme', 'gen_test1')).rejects.toMatchObject({
      code: 'job_not_terminal',
    });
    await expect(redeliverWebhook({ jobs, outbox }, 'acme', 'gen_nohook')).rejects.toMatchObject({
      code: 'webhook_not_configured',
    });
    await expect(redeliverWebhook({ jobs, outbox }, 'acme', 'gen_missing')).rejects.toMatchObject({
      code: 'job_not_found',
    });
    expect(outbox.sent).toEqual([]);
  });
});

describe('progress throttle', () => {
  it('lets one progress event per interval through per job, never the last step', () => {
    const throttle = new ProgressThrottle(5000);
    const t = (s: number): Date => new Date(1_700_000_000_000 + s * 1000);
    expect(throttle.take('a', 1, 10, t(0))).toBe(true);
    expect(throttle.take('a', 2, 10, t(4))).toBe(false);
    expect(throttle.take('b', 2, 10, t(4))).toBe(true);
    expect(throttle.take('a', 3, 10, t(5))).toBe(true);
    expect(throttle.take('a', 10, 10, t(20))).toBe(false);
    throttle.done('b');
    expect(throttle.take('b', 3, 10, t(5))).toBe(true);
  });
});
