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
  /**
   * Instead of a cursor: start after this job (an id a client got, as OpenAI's `after`). The
   * position is the job's (createdAt, id), which every adapter's order is built on.
   */
  readonly after?: Pick<JobRecord, 'id' | 'createdAt'> | undefined;
  readonly status?: JobStatus | undefined;
}

export interface JobPage<D> {
  readonly jobs: JobRecord<D>[];
  /** Present when more jobs follow. */
  readonly nextCursor?: string | undefined;
}

/** Names one job; what the unfinished index holds. */
export interface JobRef {
  readonly tenant: string;
  readonly id: string;
}

export interface UnfinishedRef extends JobRef {
  /** When the job entered the index (ISO); a ref without a stored job is garbage only when old. */
  readonly since: string;
}

export interface UnfinishedPage {
  readonly refs: UnfinishedRef[];
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
  /**
   * Every job created and not yet settled (its end announced), all tenants, in no set order: what
   * the sweeper walks to find jobs that lost their message. `create` adds a job before storing
   * it, so a stored job is never missing here; a ref may name a job that was never stored.
   */
  listUnfinished(options?: { limit?: number; cursor?: string }): Promise<UnfinishedPage>;
  /** Removes a job from the unfinished index once its end is announced; absent is not an error. */
  dropUnfinished(tenant: string, id: string): Promise<void>;
  /** True while the job is in the unfinished index (an ended job: its end is not yet announced). */
  isUnfinished(tenant: string, id: string): Promise<boolean>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
}
