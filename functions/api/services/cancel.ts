import type { GenerationJob } from '../../../core/generation.ts';
import { InvalidTransitionError, isTerminal } from '../../../core/job.ts';
import { cancel } from '../../../core/jobs/transitions.ts';
import { updateJob } from '../../../core/jobs/update-job.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';

export interface CancelOutcome {
  readonly job: GenerationJob;
  /** True when this call moved a queued job to canceled (the caller settles it). */
  readonly canceledNow: boolean;
}

/**
 * A queued job is canceled at once; a running one gets `cancelRequested`, which the worker
 * honours at its next progress write and step. Canceling a canceled job is a no-op; a job that
 * already succeeded, failed or expired cannot be canceled (409).
 */
export async function cancelGeneration(
  jobs: JobStore,
  tenant: string,
  id: string,
  now: Date,
): Promise<CancelOutcome> {
  const { job, changed } = await updateJob(jobs, tenant, id, (current) => {
    if (isTerminal(current.status) && current.status !== 'canceled') {
      throw new InvalidTransitionError(
        `generation ${id} already ${current.status}; it cannot be canceled`,
      );
    }
    return cancel(current, now);
  });
  return { job, canceledNow: changed && job.status === 'canceled' };
}
