import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';

const PAGE = 20;

/**
 * Visits the tenant's jobs newest first, a page at a time, while `visit` returns true. Workers
 * take the oldest queued job first, so a tenant's queued jobs are its newest ones: the scans
 * below stop at the first job that is not queued, and cost the queue's length, not the
 * tenant's history.
 */
async function scanNewest(
  jobs: JobStore,
  tenant: string,
  visit: (job: GenerationJob) => boolean,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await jobs.list<GenerationData>(tenant, { limit: PAGE, cursor });
    for (const job of page.jobs) if (!visit(job)) return;
    cursor = page.nextCursor;
  } while (cursor);
}

/** The tenant's queued jobs, counted from the newest up to `max` (the backpressure limit). */
export async function queuedCount(jobs: JobStore, tenant: string, max: number): Promise<number> {
  let count = 0;
  await scanNewest(jobs, tenant, (job) => {
    if (job.status !== 'queued') return false;
    count += 1;
    return count < max;
  });
  return count;
}

/** 1 = next; undefined unless queued. Counts the queued jobs created before this one. */
export async function queuePositionOf(
  jobs: JobStore,
  job: GenerationJob,
): Promise<number | undefined> {
  if (job.status !== 'queued') return undefined;
  let ahead = 0;
  let reached = false;
  await scanNewest(jobs, job.tenant, (j) => {
    if (j.id === job.id) {
      reached = true;
      return true;
    }
    if (!reached) return true;
    if (j.status !== 'queued') return false;
    ahead += 1;
    return true;
  });
  return ahead + 1;
}

/**
 * Per-tenant queued counts remembered for `ttlMs` and bumped by this process's own submits, so
 * a burst of submits costs one scan per second per tenant instead of one each. The count can
 * lag the truth by what other instances submitted in that second: backpressure is a guard,
 * not an exact quota.
 */
export class QueuedCounter {
  readonly #entries = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly jobs: JobStore,
    private readonly ttlMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async count(tenant: string, max: number): Promise<number> {
    const entry = this.#entries.get(tenant);
    if (entry && this.now() - entry.at < this.ttlMs) return entry.count;
    const count = await queuedCount(this.jobs, tenant, max);
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(tenant, { count, at: this.now() });
    return count;
  }

  submitted(tenant: string): void {
    const entry = this.#entries.get(tenant);
    if (entry) entry.count += 1;
  }
}
