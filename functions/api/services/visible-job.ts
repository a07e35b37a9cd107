import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import { JobNotFoundError, type JobStore } from '../../../core/ports/job-store.ts';

/** True for a job deleted through the API (DELETE /v1/videos/{id}): a tombstone. */
export function isDeleted(job: GenerationJob): boolean {
  return job.data.deletedAt !== undefined;
}

/** A generation of the tenant as the API shows it: a deleted one does not exist (404). */
export async function visibleJob(
  jobs: JobStore,
  tenant: string,
  id: string,
): Promise<GenerationJob> {
  const job = await jobs.get<GenerationData>(tenant, id);
  if (isDeleted(job)) throw new JobNotFoundError('no such generation');
  return job;
}
