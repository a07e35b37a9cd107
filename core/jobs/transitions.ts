import type {
  GenerationError,
  GenerationJob,
  GenerationOutput,
  GenerationTimings,
} from '../generation.ts';
import { isTerminal, transition } from '../job.ts';

/**
 * The job path's record changes as pure functions for `updateJob`'s `decide`: each takes the
 * current record and returns the next one, or undefined when the change no longer applies (the
 * job moved on), so a lost race is decided again on fresh data and never overwrites it.
 */

/** Until when a claim or progress write holds a job. */
export function leaseUntil(at: Date, visibilitySeconds: number): string {
  return new Date(at.getTime() + visibilitySeconds * 1000).toISOString();
}

function leaseLive(job: GenerationJob, now: Date): boolean {
  return Date.parse(job.data.leaseUntil ?? '') > now.getTime();
}

/**
 * queued → running, or a takeover of a running job whose worker died (its lease ran out): the
 * attempt is charged here, when the job starts, never when its message is merely received.
 */
export function claim(job: GenerationJob, now: Date, lease: string): GenerationJob | undefined {
  const attempts = (job.data.attempts ?? 0) + 1;
  const data = {
    ...job.data,
    attempts,
    leaseUntil: lease,
    progress: undefined,
    retryAt: undefined,
  };
  if (job.status === 'queued') return { ...transition(job, 'running', now), data };
  if (job.status === 'running' && !job.data.cancelRequested && !leaseLive(job, now)) {
    return { ...job, startedAt: now.toISOString(), data };
  }
  return undefined;
}

/**
 * A progress write by the worker that holds `attempt`: renews the lease, or ends the job
 * canceled when the API asked for it. Undefined when the job is no longer this attempt's.
 */
export function progress(
  job: GenerationJob,
  attempt: number,
  step: number,
  total: number,
  now: Date,
  lease: string,
): GenerationJob | undefined {
  if (job.status !== 'running' || job.data.attempts !== attempt) return undefined;
  if (job.data.cancelRequested) {
    return { ...transition(job, 'canceled', now), data: { ...job.data, progress: undefined } };
  }
  return { ...job, data: { ...job.data, progress: { step, total }, leaseUntil: lease } };
}

export function succeed(
  job: GenerationJob,
  attempt: number,
  outputs: readonly GenerationOutput[],
  timings: GenerationTimings,
  now: Date,
): GenerationJob | undefined {
  if (job.status !== 'running' || job.data.attempts !== attempt) return undefined;
  const steps = job.data.params.steps;
  return {
    ...transition(job, 'succeeded', now),
    data: {
      ...job.data,
      outputs,
      timings,
      progress: { step: steps, total: steps },
      cancelRequested: undefined,
      leaseUntil: undefined,
      lastError: undefined,
    },
  };
}

/**
 * Ends a job that did not (or will not) succeed: failed, expired or canceled, from queued or from
 * the running attempt given (any attempt when undefined: the sweeper, a job that never ran).
 */
export function end(
  job: GenerationJob,
  status: 'failed' | 'canceled' | 'expired',
  now: Date,
  error?: GenerationError,
  attempt?: number,
): GenerationJob | undefined {
  if (isTerminal(job.status)) return undefined;
  if (attempt !== undefined && (job.status !== 'running' || job.data.attempts !== attempt)) {
    return undefined;
  }
  return {
    ...transition(job, status, now),
    data: {
      ...job.data,
      error: error ?? job.data.error,
      progress: undefined,
      leaseUntil: undefined,
    },
  };
}

/**
 * Why a running job goes back to the queue. A drain (the worker is stopping) gives back the
 * attempt it charged; a retry after a transient failure keeps it, so retries are bounded.
 */
export type Release =
  | { readonly kind: 'drain' }
  | { readonly kind: 'retry'; readonly error: GenerationError; readonly delaySeconds: number };

export function release(
  job: GenerationJob,
  attempt: number,
  why: Release,
  now: Date,
): GenerationJob | undefined {
  if (job.status !== 'running' || job.data.attempts !== attempt) return undefined;
  const attempts = why.kind === 'drain' ? Math.max(0, attempt - 1) : attempt;
  return {
    ...transition(job, 'queued', now),
    data: {
      ...job.data,
      attempts,
      progress: undefined,
      leaseUntil: undefined,
      queuedAt: now.toISOString(),
      lastError: why.kind === 'retry' ? why.error : job.data.lastError,
      // Held back even from a duplicate message: the backoff is the job's, not the message's.
      retryAt:
        why.kind === 'retry'
          ? new Date(now.getTime() + why.delaySeconds * 1000).toISOString()
          : undefined,
    },
  };
}

/** The API's cancel: a queued job ends at once, a running one is asked to stop at its next step. */
export function cancel(job: GenerationJob, now: Date): GenerationJob | undefined {
  if (job.status === 'queued') {
    return { ...transition(job, 'canceled', now), data: { ...job.data, progress: undefined } };
  }
  if (job.status === 'running' && !job.data.cancelRequested) {
    return { ...job, data: { ...job.data, cancelRequested: true } };
  }
  return undefined;
}

/** The sweeper sent the job's message again. */
export function swept(job: GenerationJob, now: Date): GenerationJob | undefined {
  return isTerminal(job.status)
    ? undefined
    : { ...job, data: { ...job.data, sweptAt: now.toISOString() } };
}
