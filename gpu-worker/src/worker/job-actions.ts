import type {
  GenerationData,
  GenerationError,
  GenerationJob,
  GenerationOutput,
  GenerationTimings,
  JobMessage,
} from '../../../core/generation.ts';
import { isDitserveError } from '../../../core/errors.ts';
import { isTerminal } from '../../../core/job.ts';
import { decideClaim, type ClaimDecision } from '../../../core/jobs/claim-decision.ts';
import { settle } from '../../../core/jobs/settle.ts';
import * as next from '../../../core/jobs/transitions.ts';
import { updateJob } from '../../../core/jobs/update-job.ts';
import { JobNotFoundError } from '../../../core/ports/job-store.ts';
import type { Delivery } from '../../../core/ports/message-queue.ts';
import { enqueueWebhookEvent } from '../../../core/webhooks/outbox.ts';
import type { WorkerContext } from './context.ts';

/** Errors the sampler raises for the request itself: retrying cannot help. */
const PERMANENT = new Set([
  'invalid_request',
  'model_not_found',
  'model_config_invalid',
  'encoder_unavailable',
]);

/** A job this worker claimed: the attempt it holds is what every later write is guarded by. */
export interface Claimed {
  readonly delivery: Delivery<JobMessage>;
  readonly job: GenerationJob;
  readonly attempt: number;
}

/**
 * The worker's writes around one delivery. Each ends with the message deleted only once the job
 * is settled (ended and announced), kept hidden, or handed back: a crash between any two writes
 * leaves a message that brings the job back, so nothing is lost and every end is announced.
 */
export class JobActions {
  readonly #c: WorkerContext;

  constructor(context: WorkerContext) {
    this.#c = context;
  }

  #decide(job: GenerationJob | undefined): ClaimDecision {
    return decideClaim(job, {
      now: this.#c.now(),
      maxAttempts: this.#c.settings.maxAttempts,
      serves: (model) => this.#c.sampler.models.has(model),
    });
  }

  /** The record for a delivery and what to do with it; acts on everything but `run`. */
  async triage(delivery: Delivery<JobMessage>): Promise<GenerationJob | undefined> {
    let job: GenerationJob | undefined;
    try {
      job = await this.#c.jobs.get<GenerationData>(delivery.body.tenant, delivery.body.jobId);
    } catch (error) {
      if (!(error instanceof JobNotFoundError)) throw error;
    }
    const decision = this.#decide(job);
    if (decision.kind === 'run') return job;
    await this.#act(delivery, job, decision);
    return undefined;
  }

  async #act(
    delivery: Delivery<JobMessage>,
    job: GenerationJob | undefined,
    decision: Exclude<ClaimDecision, { kind: 'run' }>,
    depth = 0,
  ): Promise<void> {
    const { queue, emit } = this.#c;
    const jobId = delivery.body.jobId;
    switch (decision.kind) {
      case 'drop':
        await queue.delete(delivery.receipt);
        emit({ type: 'message_skipped', jobId, reason: decision.reason });
        return;
      case 'defer':
        await queue.extend(delivery.receipt, decision.seconds);
        emit({ type: 'message_skipped', jobId, reason: decision.reason });
        return;
      case 'settle':
        // Its end may never have been announced (its worker died after the terminal write).
        if (job && (await this.#c.jobs.isUnfinished(job.tenant, job.id))) await this.#settle(job);
        await queue.delete(delivery.receipt);
        emit({ type: 'message_skipped', jobId, reason: decision.reason });
        return;
      case 'end': {
        if (!job) return;
        const { status, error } = decision;
        const ended = await updateJob(this.#c.jobs, job.tenant, job.id, (current) =>
          current.version === job.version
            ? next.end(current, status, this.#c.now(), error)
            : undefined,
        );
        if (!ended.changed) {
          // It moved on meanwhile: decide again on what it is now.
          const again = this.#decide(ended.job);
          if (again.kind !== 'run' && depth < 3)
            await this.#act(delivery, ended.job, again, depth + 1);
          return;
        }
        emit({ type: 'job_finished', jobId, status, timings: {} });
        await this.#settle(ended.job);
        await queue.delete(delivery.receipt);
      }
    }
  }

  async #settle(job: GenerationJob): Promise<void> {
    const { jobs, outbox, blobs, settings } = this.#c;
    await settle({ jobs, outbox, blobs, urlTtlSeconds: settings.webhookUrlTtlSeconds }, job);
  }

  /** Best effort: a lost started/progress event is not worth failing a job for. */
  async announce(job: GenerationJob, type: 'generation.started' | 'generation.progress') {
    if (!this.#c.outbox) return;
    try {
      await enqueueWebhookEvent(this.#c.outbox, job, type);
    } catch (error) {
      this.#c.emit({ type: 'error', message: `${type} event for ${job.id} not queued`, error });
    }
  }

  /** Claims a job when its batch starts: the attempt is charged now, not when it was received. */
  async claim(delivery: Delivery<JobMessage>, job: GenerationJob): Promise<Claimed | undefined> {
    const now = this.#c.now();
    const lease = next.leaseUntil(now, this.#c.settings.visibilitySeconds);
    const claimed = await updateJob(this.#c.jobs, job.tenant, job.id, (current) =>
      this.#decide(current).kind === 'run' ? next.claim(current, now, lease) : undefined,
    );
    if (!claimed.changed) {
      const decision = this.#decide(claimed.job);
      if (decision.kind !== 'run') await this.#act(delivery, claimed.job, decision);
      return undefined;
    }
    const attempt = claimed.job.data.attempts ?? 1;
    this.#c.emit({ type: 'job_started', jobId: job.id, attempt });
    await this.announce(claimed.job, 'generation.started');
    return { delivery, job: claimed.job, attempt };
  }

  async succeed(
    c: Claimed,
    outputs: readonly GenerationOutput[],
    timings: GenerationTimings,
  ): Promise<void> {
    const done = await updateJob(this.#c.jobs, c.job.tenant, c.job.id, (current) =>
      next.succeed(current, c.attempt, outputs, timings, this.#c.now()),
    );
    if (done.changed) {
      this.#c.emit({ type: 'job_finished', jobId: c.job.id, status: 'succeeded', timings });
    }
    await this.ended(c, done.job);
  }

  /**
   * After the job's end was written (by this worker or, for a cancel seen late, the progress
   * write): announce it, then delete the message. A job another worker took over is left alone.
   */
  async ended(c: Claimed, job: GenerationJob): Promise<void> {
    if (!isTerminal(job.status)) {
      this.#c.emit({ type: 'job_released', jobId: job.id, reason: 'taken over by another worker' });
      return;
    }
    await this.#settle(job);
    await this.#c.queue.delete(c.delivery.receipt);
  }

  /** A failed sampler run: retried after a backoff while attempts last, else the job fails. */
  async fail(c: Claimed, error: unknown): Promise<void> {
    const code = isDitserveError(error) ? error.code : 'internal';
    const permanent = PERMANENT.has(code);
    const reason: GenerationError = {
      code,
      message: isDitserveError(error) ? error.message : 'the sampler failed; see the worker logs',
      retryable: !permanent,
    };
    this.#c.emit({ type: 'error', message: `job ${c.job.id} attempt ${c.attempt} failed`, error });
    if (!permanent && c.attempt < this.#c.settings.maxAttempts) {
      const delaySeconds = this.#c.settings.retryDelaySeconds * c.attempt;
      await this.release(c, { kind: 'retry', error: reason, delaySeconds });
      return;
    }
    const failed = await updateJob(this.#c.jobs, c.job.tenant, c.job.id, (current) =>
      next.end(current, 'failed', this.#c.now(), reason, c.attempt),
    );
    if (failed.changed) {
      this.#c.emit({ type: 'job_finished', jobId: c.job.id, status: 'failed', timings: {} });
    }
    await this.ended(c, failed.job);
  }

  /**
   * Hands a job back to the queue: at once for a drain (which gives the attempt back), after a
   * growing backoff for a retry (which keeps it, so retries are bounded by maxAttempts).
   */
  async release(c: Claimed, why: next.Release): Promise<void> {
    await updateJob(this.#c.jobs, c.job.tenant, c.job.id, (current) =>
      next.release(current, c.attempt, why, this.#c.now()),
    );
    if (why.kind === 'drain') await this.#c.queue.release(c.delivery.receipt);
    else await this.#c.queue.extend(c.delivery.receipt, why.delaySeconds);
    this.#c.emit({
      type: 'job_released',
      jobId: c.job.id,
      reason: why.kind === 'drain' ? 'worker draining' : `retrying after: ${why.error.message}`,
    });
  }

  /**
   * A second message of a job already in this receive, or of one this worker holds: hidden for
   * one visibility timeout.
   */
  async deferDuplicate(
    delivery: Delivery<JobMessage>,
    reason = 'duplicate message in one receive; deferred',
  ): Promise<void> {
    await this.#c.queue.extend(delivery.receipt, this.#c.settings.visibilitySeconds);
    this.#c.emit({ type: 'message_skipped', jobId: delivery.body.jobId, reason });
  }

  /** A received job this worker will not start (draining): its message goes back untouched. */
  async handBack(delivery: Delivery<JobMessage>): Promise<void> {
    await this.#c.queue.release(delivery.receipt);
    this.#c.emit({ type: 'job_released', jobId: delivery.body.jobId, reason: 'worker draining' });
  }

  /** Reports instead of throwing, for work whose failure leaves the message to come back. */
  async guard(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.#c.emit({ type: 'error', message: `${what} failed; the message will come back`, error });
    }
  }
}
