import { DitserveError } from '../errors.ts';
import type { JobState, JobStatus } from '../job.ts';

/** What a store keeps of a job; the API and the worker add their fields through `data`. */
export interface JobRecord<D = unknown> extends JobState {
  readonly id: string;
  readonly tenant: string;
  readonly data: D;
}

/** No job with this id for this tenant (another tenant's job is indistinguishable: 404). */
export class JobNotFoundError extends DitserveError {
  readonly code = 'job_not_found';
}

/** The record changed since it was read (its version moved): re-read and decide again. */
export class VersionConflictError extends DitserveError {
  readonly code = 'version_conflict';
}

/**
 * The source of truth for jobs. Every write is conditional: `create` fails on an existing id,
 * `put` only replaces the version the caller read. Adapters translate vendor errors (S3
 * PreconditionFailed, a lost rename) into these error types at the boundary.
 */
export interface JobStore {
  create<D>(job: JobRecord<D>): Promise<void>;
  get<D>(tenant: string, id: string): Promise<JobRecord<D>>;
  /** Replaces the record whose version is `expectedVersion` with `next` (next.version > it). */
  put<D>(next: JobRecord<D>, expectedVersion: number): Promise<void>;
  /** A tenant's jobs, newest first. */
  list<D>(
    tenant: string,
    options?: { limit?: number; status?: JobStatus },
  ): Promise<JobRecord<D>[]>;
}
