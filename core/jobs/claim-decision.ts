import type { GenerationError, GenerationJob } from '../generation.ts';
import { isTerminal } from '../job.ts';

/**
 * What a worker does with a job whose message it received, decided from the record alone:
 * - `run`: claim it (the claim itself is a conditional write, so two workers never both run it);
 * - `settle`: it already ended; make sure its end was announced, then drop the message;
 * - `end`: it must not run (expired, canceled, out of attempts, a model this worker lacks);
 * - `defer`: a live worker holds it; look again once that worker's lease would have run out;
 * - `drop`: there is no such job; the message is garbage.
 */
export type ClaimDecision =
  | { readonly kind: 'run' }
  | { readonly kind: 'settle'; readonly reason: string }
  | {
      readonly kind: 'end';
      readonly status: 'failed' | 'canceled' | 'expired';
      readonly error?: GenerationError | undefined;
      readonly reason: string;
    }
  | { readonly kind: 'defer'; readonly seconds: number; readonly reason: string }
  | { readonly kind: 'drop'; readonly reason: string };

export interface ClaimContext {
  readonly now: Date;
  /** Starts of a job before it is failed as one no worker can finish. */
  readonly maxAttempts: number;
  readonly serves: (model: string) => boolean;
}

export function decideClaim(job: GenerationJob | undefined, ctx: ClaimContext): ClaimDecision {
  if (!job) return { kind: 'drop', reason: 'job not found' };
  if (isTerminal(job.status)) return { kind: 'settle', reason: `already ${job.status}` };
  const now = ctx.now.getTime();
  if (job.status === 'queued' && job.data.expiresAt && Date.parse(job.data.expiresAt) < now) {
    return {
      kind: 'end',
      status: 'expired',
      reason: 'expired in the queue',
      error: {
        code: 'timeout',
        message: 'the job waited in the queue longer than its time to live',
        retryable: true,
      },
    };
  }
  if (job.data.cancelRequested) return { kind: 'end', status: 'canceled', reason: 'canceled' };
  const retryLeftMs = Date.parse(job.data.retryAt ?? '') - now;
  if (job.status === 'queued' && retryLeftMs > 0) {
    return {
      kind: 'defer',
      seconds: Math.ceil(retryLeftMs / 1000),
      reason: 'waiting out its retry backoff',
    };
  }
  const leaseLeftMs = Date.parse(job.data.leaseUntil ?? '') - now;
  if (job.status === 'running' && leaseLeftMs > 0) {
    return {
      kind: 'defer',
      seconds: Math.ceil(leaseLeftMs / 1000) + 1,
      reason: 'held by a live worker; deferred',
    };
  }
  const attempts = job.data.attempts ?? 0;
  if (attempts >= ctx.maxAttempts) {
    const last = job.data.lastError;
    return {
      kind: 'end',
      status: 'failed',
      reason: 'out of attempts',
      // The last transient error when there was one (it says what went wrong), else the crashes.
      error: last
        ? { ...last, retryable: true }
        : {
            code: 'worker_lost',
            message: `the job was started ${attempts} times and no worker finished it`,
            retryable: true,
          },
    };
  }
  if (!ctx.serves(job.data.params.model)) {
    return {
      kind: 'end',
      status: 'failed',
      reason: 'model not served',
      error: {
        code: 'model_not_found',
        message: `this worker does not serve model ${job.data.params.model}`,
        retryable: false,
      },
    };
  }
  return { kind: 'run' };
}
