import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import { InvalidTransitionError, isTerminal, transition } from '../../../core/job.ts';
import { VersionConflictError, type JobStore } from '../../../core/ports/job-store.ts';

export interface CancelOutcome {
  readonly job: GenerationJob;
  /** True when this call moved a queued job to canceled (the caller emits the webhook). */
  readonly canceledNow: boolean;
}

/**
 * A queued job is canceled at once; a running one gets `cancelRequested`, which the worker
 * honours at the next step boundary. Canceling a canceled job is a no-op; a job that already
 * succeeded, failed or expired cannot be canceled (409). Lost races re-read and decide again.
 */
export async function cancelGeneration(
  jobs: JobStore,
  tenant: string,
  id: string,
  now: Date,
): Promise<CancelOutcome> {
  for (let attempt = 0; ; attempt++) {
    const job = await jobs.get<GenerationData>(tenant, id);
    if (job.status === 'canceled') return { job, canceledNow: false };
    if (isTerminal(job.status)) {
      throw new InvalidTransitionError(
        `generation ${id} already ${job.status}; it cannot be canceled`,
      );
    }
    if (job.status === 'running' && job.data.cancelRequested) return { job, canceledNow: false };
    const next: GenerationJob =
      job.status === 'queued'
        ? { ...transition(job, 'canceled', now), data: { ...job.data, progress: undefined } }
        : { ...job, version: job.version + 1, data: { ...job.data, cancelRequested: true } };
    try {
      await jobs.put(next, job.version);
      return { job: next, canceledNow: job.status === 'queued' };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= 10) throw error;
    }
  }
}
