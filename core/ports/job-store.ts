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

/** A store or queue could not be reached or refused for reasons of its own (retryable). */
export class StoreUnavailableError extends DitserveError {
  readonly code = 'store_unavailable';
}

export interface ListOptions {
  /** At most this many jobs (adapters cap it at 100). */
  readonly limit?: number | undefined;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string | undefined;
  readonly status?: JobStatus | undefined;
}

export interface JobPage<D> {
  readonly jobs: JobRecord<D>[];
  /** Present when more jobs follow. */
  readonly nextCursor?: string | undefined;
}

/** What an Idempotency-Key maps to: the job it created and a fingerprint of the request body. */
export interface IdempotencyRecord {
  readonly keyHash: string;
  readonly fingerprint: string;
  readonly jobId: string;
  readonly createdAt: string;
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
  /** A tenant's jobs, newest first (createdAt, then id), one page at a time. */
  list<D>(tenant: string, options?: ListOptions): Promise<JobPage<D>>;
  /**
   * Records `record` under (tenant, keyHash) unless a record is already there; returns the
   * existing record in that case and undefined when this call claimed the key. Atomic.
   */
  claimIdempotencyKey(
    tenant: string,
    record: IdempotencyRecord,
  ): Promise<IdempotencyRecord | undefined>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
}
