import type { GenerationData, GenerationJob } from '../generation.ts';
import { VersionConflictError, type JobStore } from '../ports/job-store.ts';

/** Lost races in a row before giving up; each one means another writer made progress. */
const MAX_CONFLICTS = 20;

export interface Updated {
  /** The record as it is now. */
  readonly job: GenerationJob;
  /** True when this call wrote it; false when `decide` left the record as it was. */
  readonly changed: boolean;
}

/**
 * The one read-decide-write loop over the store's conditional put, used by the worker, the API's
 * cancel and the sweeper: `decide` sees the current record and returns the next one (version
 * bumped here) or undefined to leave it. A lost race re-reads and decides again, so a cancel
 * written by the API is never overwritten by a progress write, nor the other way round.
 */
export async function updateJob(
  jobs: Pick<JobStore, 'get' | 'put'>,
  tenant: string,
  id: string,
  decide: (job: GenerationJob) => GenerationJob | undefined,
): Promise<Updated> {
  for (let conflicts = 0; ; conflicts++) {
    const job = await jobs.get<GenerationData>(tenant, id);
    const next = decide(job);
    if (!next) return { job, changed: false };
    const written = { ...next, version: Math.max(next.version, job.version + 1) };
    try {
      await jobs.put(written, job.version);
      return { job: written, changed: true };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || conflicts >= MAX_CONFLICTS) throw error;
    }
  }
}
