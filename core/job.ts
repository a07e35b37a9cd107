import { DitserveError } from './errors.ts';

/**
 * A job's lifecycle (docs/architecture.md, "Job states"): queued → running → succeeded | failed | canceled;
 * queued → canceled | expired | failed; running → queued only when a draining worker hands work back.
 * Stores apply transitions as conditional writes on `version`; this module only decides whether a
 * transition is legal, so every adapter enforces the same machine.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired';

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'succeeded',
  'failed',
  'canceled',
  'expired',
]);

const NEXT: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  // queued → failed: the job could not be enqueued, or a worker cannot run it at all.
  queued: ['running', 'canceled', 'expired', 'failed'],
  running: ['succeeded', 'failed', 'canceled', 'queued'],
  succeeded: [],
  failed: [],
  canceled: [],
  expired: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

/** A transition the state machine forbids (e.g. succeeded → running). */
export class InvalidTransitionError extends DitserveError {
  readonly code = 'invalid_transition';
}

export interface JobTimes {
  readonly createdAt: string;
  readonly startedAt?: string | undefined;
  readonly completedAt?: string | undefined;
}

/** The part of a job record that the state machine owns. */
export interface JobState extends JobTimes {
  readonly status: JobStatus;
  /** Bumped by every write; stores compare it to detect a lost race. */
  readonly version: number;
}

/**
 * The next state after `to`, with its timestamps, or InvalidTransitionError. Going back to
 * queued (drain) clears startedAt so that queue time and run time stay honest.
 */
export function transition<S extends JobState>(job: S, to: JobStatus, at: Date): S {
  if (!canTransition(job.status, to)) {
    throw new InvalidTransitionError(`a ${job.status} job cannot become ${to}`);
  }
  const iso = at.toISOString();
  const times: JobTimes =
    to === 'running'
      ? { createdAt: job.createdAt, startedAt: iso, completedAt: undefined }
      : to === 'queued'
        ? { createdAt: job.createdAt, startedAt: undefined, completedAt: undefined }
        : { createdAt: job.createdAt, startedAt: job.startedAt, completedAt: iso };
  return { ...job, ...times, status: to, version: job.version + 1 };
}
