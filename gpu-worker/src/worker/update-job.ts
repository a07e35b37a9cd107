import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import { VersionConflictError, type JobStore } from '../../../core/ports/job-store.ts';

/**
 * Read-decide-write with the store's conditional put: `decide` sees the current record and
 * returns the next one (version bumped by this helper) or undefined to leave it. A lost race
 * re-reads and decides again, so a cancel written by the API is never overwritten.
 */
export async function updateJob(
  jobs: JobStore,
  tenant: string,
  id: string,
  decide: (job: GenerationJob) => GenerationJob | undefined,
): Promise<GenerationJob> {
  for (let attempt = 0; ; attempt++) {
    const job = await jobs.get<GenerationData>(tenant, id);
    const next = decide(job);
    if (!next) return job;
    const written = { ...next, version: Math.max(next.version, job.version + 1) };
    try {
      await jobs.put(written, job.version);
      return written;
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 20) throw error;
    }
  }
}
