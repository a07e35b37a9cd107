import type { GenerationJob } from '../../../core/generation.ts';
import { settle } from '../../../core/jobs/settle.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * A job the API itself ended (cancel of a queued job): its end is announced and it leaves the
 * unfinished index, as for every ended job. Should this fail, the job's message (still queued)
 * or the sweeper announces it later, with the same webhook-id.
 */
export async function settleEndedJob(deps: ApiDeps, job: GenerationJob): Promise<void> {
  try {
    await settle(deps, job);
  } catch (error) {
    // The cancel itself is written; the client's answer must not depend on the outbox.
    deps.logger?.warn('ended job not settled yet; its message or the sweeper will', {
      jobId: job.id,
      error: String(error),
    });
  }
}
