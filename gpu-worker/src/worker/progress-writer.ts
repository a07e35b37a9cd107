import type { GenerationJob } from '../../../core/generation.ts';
import * as next from '../../../core/jobs/transitions.ts';
import { updateJob } from '../../../core/jobs/update-job.ts';
import { ProgressThrottle } from '../../../core/webhooks/progress-throttle.ts';
import type { WorkerContext } from './context.ts';
import type { Claimed, JobActions } from './job-actions.ts';

/**
 * Writes a batch's progress (at most once per progressIntervalMs, writes in order) and is
 * where cancel requests are seen: the write that finds `cancelRequested` ends that job canceled,
 * and once no job of the batch is wanted any more the batch is aborted at its next step. The
 * sampler runs off the event loop, so these writes happen while it computes.
 */
export class ProgressWriter {
  readonly #c: WorkerContext;
  readonly #actions: JobActions;
  readonly #jobs: readonly Claimed[];
  readonly #abort: AbortController;
  readonly #throttle: ProgressThrottle;
  /** Jobs that left the batch (ended or taken over): their rows are computed but not used. */
  readonly left = new Set<string>();
  #chain = Promise.resolve();
  #lastWrite = 0;

  constructor(
    c: WorkerContext,
    actions: JobActions,
    jobs: readonly Claimed[],
    abort: AbortController,
  ) {
    this.#c = c;
    this.#actions = actions;
    this.#jobs = jobs;
    this.#abort = abort;
    this.#throttle = new ProgressThrottle(c.settings.progressWebhookIntervalMs);
  }

  /** The sampler's progress callback. */
  readonly onStep = (step: number, total: number): void => {
    const now = Date.now();
    if (step < total && now - this.#lastWrite < this.#c.settings.progressIntervalMs) return;
    this.#lastWrite = now;
    this.#chain = this.#chain.then(() => this.#write(step, total));
  };

  /** Waits for the write in flight (call before acting on the batch's outcome). */
  async flush(): Promise<void> {
    await this.#chain;
  }

  async #write(step: number, total: number): Promise<void> {
    for (const c of this.#jobs) {
      if (this.left.has(c.job.id)) continue;
      await this.#actions.guard(`progress of ${c.job.id}`, async () => {
        const now = this.#c.now();
        const lease = next.leaseUntil(now, this.#c.settings.visibilitySeconds);
        const written = await updateJob(this.#c.jobs, c.job.tenant, c.job.id, (current) =>
          next.progress(current, c.attempt, step, total, now, lease),
        );
        if (written.changed && written.job.status === 'running') {
          this.#c.emit({ type: 'job_progress', jobId: c.job.id, step, total });
          if (this.#throttle.take(c.job.id, step, total)) {
            await this.#actions.announce(written.job, 'generation.progress');
          }
          return;
        }
        await this.#leave(c, written.job, written.changed);
      });
    }
    // Nobody wants this batch any more: stop at the next step.
    if (this.#jobs.every((c) => this.left.has(c.job.id))) this.#abort.abort(new Error('canceled'));
  }

  async #leave(c: Claimed, job: GenerationJob, canceledHere: boolean): Promise<void> {
    this.left.add(c.job.id);
    if (canceledHere) {
      this.#c.emit({ type: 'job_finished', jobId: c.job.id, status: 'canceled', timings: {} });
    }
    await this.#actions.ended(c, job);
  }
}
