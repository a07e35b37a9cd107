import { describe, expect, it } from 'vitest';
import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import { decideClaim } from '../../../core/jobs/claim-decision.ts';
import { jobRecord } from './fixtures.ts';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const later = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();

function job(status: GenerationJob['status'], data: Partial<GenerationData> = {}): GenerationJob {
  return jobRecord('gen_1', later(-60), { status, version: 3 }, data);
}

const ctx = { now: NOW, maxAttempts: 3, serves: (m: string) => m === 'm' };

describe('decideClaim', () => {
  it('runs a queued job, and takes over a running one whose lease ran out', () => {
    expect(decideClaim(job('queued'), ctx).kind).toBe('run');
    expect(decideClaim(job('running', { attempts: 1, leaseUntil: later(-1) }), ctx).kind).toBe(
      'run',
    );
  });

  it('defers a job a live worker holds until just after its lease', () => {
    expect(decideClaim(job('running', { attempts: 1, leaseUntil: later(10) }), ctx)).toMatchObject({
      kind: 'defer',
      seconds: 11,
    });
  });

  it('drops a message without a job, and settles one whose job already ended', () => {
    expect(decideClaim(undefined, ctx).kind).toBe('drop');
    for (const status of ['succeeded', 'failed', 'canceled', 'expired'] as const) {
      expect(decideClaim(job(status), ctx).kind).toBe('settle');
    }
  });

  it('ends what must not run: expired, canceled, out of attempts (retryable), unknown model', () => {
    expect(decideClaim(job('queued', { expiresAt: later(-1) }), ctx)).toMatchObject({
      kind: 'end',
      status: 'expired',
      error: { code: 'timeout', retryable: true },
    });
    expect(decideClaim(job('queued', { cancelRequested: true }), ctx)).toMatchObject({
      kind: 'end',
      status: 'canceled',
    });
    expect(decideClaim(job('running', { attempts: 3, leaseUntil: later(-1) }), ctx)).toMatchObject({
      kind: 'end',
      status: 'failed',
      error: { code: 'worker_lost', retryable: true },
    });
    const unknown = job('queued');
    expect(
      decideClaim(
        { ...unknown, data: { ...unknown.data, params: { ...unknown.data.params, model: 'x' } } },
        ctx,
      ),
    ).toMatchObject({
      kind: 'end',
      status: 'failed',
      error: { code: 'model_not_found', retryable: false },
    });
  });

  it('fails a job out of attempts with the transient error it kept hitting, when there was one', () => {
    const lastError = { code: 'internal' as const, message: 'CUDA out of memory', retryable: true };
    expect(decideClaim(job('queued', { attempts: 3, lastError }), ctx)).toMatchObject({
      kind: 'end',
      status: 'failed',
      error: lastError,
    });
  });

  it('holds a job back until its retry backoff is over, whichever message brings it', () => {
    expect(decideClaim(job('queued', { attempts: 1, retryAt: later(5) }), ctx)).toMatchObject({
      kind: 'defer',
      seconds: 5,
    });
    expect(decideClaim(job('queued', { attempts: 1, retryAt: later(-1) }), ctx).kind).toBe('run');
  });
});
