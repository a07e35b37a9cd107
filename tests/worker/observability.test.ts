import { describe, expect, it } from 'vitest';
import { startHealthServer } from '../../gpu-worker/src/worker/health.ts';
import { emfLine } from '../../gpu-worker/src/worker/metrics.ts';
import type { WorkerState } from '../../gpu-worker/src/worker/state.ts';

describe('worker health endpoint (ECS health check)', () => {
  it('answers 200 while starting or working and 503 once draining', async () => {
    let state: WorkerState = 'starting';
    const { server, port } = await startHealthServer(0, () => state);
    try {
      const status = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
      expect(await status()).toBe(200);
      state = 'busy';
      expect(await status()).toBe(200);
      state = 'draining';
      expect(await status()).toBe(503);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});

describe('CloudWatch embedded metric format', () => {
  it('turns a finished job into one EMF line with its timings in milliseconds', () => {
    const line = emfLine(
      {
        type: 'job_finished',
        jobId: 'gen_1',
        status: 'succeeded',
        timings: { queueMs: 12, inferenceMs: 340 },
      },
      'ditserve',
      1_700_000_000_000,
    );
    const doc = JSON.parse(line ?? '{}') as Record<string, unknown> & {
      _aws: {
        Timestamp: number;
        CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[];
      };
    };
    expect(doc._aws.Timestamp).toBe(1_700_000_000_000);
    expect(doc._aws.CloudWatchMetrics[0]?.Namespace).toBe('ditserve');
    expect(doc._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'JobsFinished', Unit: 'Count' },
      { Name: 'JobsSucceeded', Unit: 'Count' },
      { Name: 'QueueMs', Unit: 'Milliseconds' },
      { Name: 'InferenceMs', Unit: 'Milliseconds' },
    ]);
    expect(doc).toMatchObject({ JobsFinished: 1, JobsSucceeded: 1, QueueMs: 12, InferenceMs: 340 });
  });

  it('counts errors as WorkerErrors and ignores other events', () => {
    const line = emfLine({ type: 'error', message: 'receive failed', error: new Error('x') });
    expect(JSON.parse(line ?? '{}')).toMatchObject({ WorkerErrors: 1, message: 'receive failed' });
    expect(emfLine({ type: 'state', state: 'ready' })).toBeUndefined();
  });
});
