import {
  JobNotFoundError,
  VersionConflictError,
  type JobRecord,
  type JobStore,
} from '../../ports/job-store.ts';

/** JobStore in process memory: for tests and single-process runs; nothing survives a restart. */
export class MemoryJobStore implements JobStore {
  readonly #jobs = new Map<string, JobRecord>();

  #key(tenant: string, id: string): string {
    return `${tenant}/${id}`;
  }

  create<D>(job: JobRecord<D>): Promise<void> {
    const key = this.#key(job.tenant, job.id);
    if (this.#jobs.has(key)) {
      return Promise.reject(new VersionConflictError(`job ${job.id} already exists`));
    }
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

  list<D>(
    tenant: string,
    options: { limit?: number; status?: JobRecord['status'] } = {},
  ): Promise<JobRecord<D>[]> {
    const mine = [...this.#jobs.values()]
      .filter((j) => j.tenant === tenant && (!options.status || j.status === options.status))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .slice(0, options.limit ?? Infinity);
    return Promise.resolve(mine.map((j) => structuredClone(j) as JobRecord<D>));
  }
}
