import {
  JobNotFoundError,
  VersionConflictError,
  type IdempotencyRecord,
  type JobPage,
  type JobRecord,
  type JobStore,
  type ListOptions,
  type UnfinishedPage,
} from '../../ports/job-store.ts';
import { pageOf } from '../page.ts';

/** JobStore in process memory: for tests and single-process runs; nothing survives a restart. */
export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #idempotency = new Map<string, IdempotencyRecord>();
  readonly #unfinished = new Map<string, string>();

  #key(tenant: string, id: string): string {
    return `${tenant}/${id}`;
  }

  create<D>(job: JobRecord<D>): Promise<void> {
    const key = this.#key(job.tenant, job.id);
    if (this.#jobs.has(key)) {
      return Promise.reject(new VersionConflictError(`job ${job.id} already exists`));
    }
    this.#unfinished.set(key, new Date().toISOString());
    this.#jobs.set(key, structuredClone(job));
    return Promise.resolve();
  }

  get<D>(tenant: string, id: string): Promise<JobRecord<D>> {
    const job = this.#jobs.get(this.#key(tenant, id));
    if (!job) return Promise.reject(new JobNotFoundError(`no job ${id}`));
    return Promise.resolve(structuredClone(job) as JobRecord<D>);
  }

  put<D>(next: JobRecord<D>, expectedVersion: number): Promise<void> {
    const key = this.#key(next.tenant, next.id);
    const current = this.#jobs.get(key);
    if (!current) return Promise.reject(new JobNotFoundError(`no job ${next.id}`));
    if (current.version !== expectedVersion || next.version <= expectedVersion) {
      return Promise.reject(
        new VersionConflictError(
          `job ${next.id} is at version ${current.version}, not ${expectedVersion}`,
        ),
      );
    }
    this.#jobs.set(key, structuredClone(next));
    return Promise.resolve();
  }

  list<D>(tenant: string, options: ListOptions = {}): Promise<JobPage<D>> {
    const mine = [...this.#jobs.values()].filter(
      (j) => j.tenant === tenant && (!options.status || j.status === options.status),
    );
    return Promise.resolve(
      pageOf(
        mine.map((j) => structuredClone(j) as JobRecord<D>),
        options,
      ),
    );
  }

  claimIdempotencyKey(
    tenant: string,
    record: IdempotencyRecord,
  ): Promise<IdempotencyRecord | undefined> {
    const key = this.#key(tenant, record.keyHash);
    const existing = this.#idempotency.get(key);
    if (existing) return Promise.resolve(structuredClone(existing));
    this.#idempotency.set(key, structuredClone(record));
    return Promise.resolve(undefined);
  }

  listUnfinished(options: { limit?: number; cursor?: string } = {}): Promise<UnfinishedPage> {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const after = options.cursor;
    const rest = [...this.#unfinished.keys()]
      .filter((k) => after === undefined || k > after)
      .sort();
    const page = rest.slice(0, limit);
    return Promise.resolve({
      refs: page.map((key) => {
        const [tenant = '', id = ''] = key.split('/');
        return { tenant, id, since: this.#unfinished.get(key) ?? '' };
      }),
      nextCursor: rest.length > limit ? page.at(-1) : undefined,
    });
  }

  dropUnfinished(tenant: string, id: string): Promise<void> {
    this.#unfinished.delete(this.#key(tenant, id));
    return Promise.resolve();
  }

  isUnfinished(tenant: string, id: string): Promise<boolean> {
    return Promise.resolve(this.#unfinished.has(this.#key(tenant, id)));
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }
}
