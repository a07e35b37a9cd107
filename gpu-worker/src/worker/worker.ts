import { setTimeout as sleep } from 'node:timers/promises';
import type {
  GenerationData,
  GenerationError,
  GenerationJob,
  GenerationOutput,
  GenerationParams,
  JobMessage,
  WebhookEventMessage,
  WebhookEventType,
} from '../../../core/generation.ts';
import { isDitserveError } from '../../../core/errors.ts';
import { isTerminal, transition } from '../../../core/job.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import { JobNotFoundError, type JobStore } from '../../../core/ports/job-store.ts';
import type { Delivery, MessageQueue } from '../../../core/ports/message-queue.ts';
import { enqueueWebhookEvent } from '../../../core/webhooks/outbox.ts';
import { ProgressThrottle } from '../../../core/webhooks/progress-throttle.ts';
import { encodeImage, generate, metadataFor, MIME_TYPES, type DitModel } from '../sampler/index.ts';
import { groupCompatible } from './batcher.ts';
import { Heartbeat } from './heartbeat.ts';
import type { JobTimingsMs, WorkerEvent, WorkerListener, WorkerState } from './state.ts';
import { updateJob } from './update-job.ts';

export interface WorkerOptions {
  readonly jobs: JobStore;
  readonly queue: MessageQueue<JobMessage>;
  readonly blobs: BlobStore;
  /** Webhook events go here; none are sent without it. */
  readonly outbox?: MessageQueue<WebhookEventMessage> | undefined;
  /** Loaded, warmed models by name (model_index.json's ditserve.name). */
  readonly models: ReadonlyMap<string, DitModel>;
  /** Most images in one sampler batch. @default 8 */
  readonly maxBatchImages?: number | undefined;
  /** Seconds a received message stays hidden; heartbeats renew it. @default 60 */
  readonly visibilitySeconds?: number | undefined;
  /** Long-poll wait. @default 20 (SQS's maximum) */
  readonly pollWaitSeconds?: number | undefined;
  /** Deliveries of one job before it is failed as poison. @default 3 */
  readonly maxAttempts?: number | undefined;
  /** Minimum time between progress writes per job. @default 1000 */
  readonly progressIntervalMs?: number | undefined;
  /** Minimum time between progress webhooks per job. @default 5000 */
  readonly progressWebhookIntervalMs?: number | undefined;
  /** Lifetime of output URLs put into webhook events. @default 86400 */
  readonly webhookUrlTtlSeconds?: number | undefined;
  readonly onEvent?: WorkerListener | undefined;
  readonly now?: (() => Date) | undefined;
}

type Settings = Record<
  | 'maxBatchImages'
  | 'visibilitySeconds'
  | 'pollWaitSeconds'
  | 'maxAttempts'
  | 'progressIntervalMs'
  | 'progressWebhookIntervalMs'
  | 'webhookUrlTtlSeconds',
  number
>;

const DEFAULT_SETTINGS: Settings = {
  maxBatchImages: 8,
  visibilitySeconds: 60,
  pollWaitSeconds: 20,
  maxAttempts: 3,
  progressIntervalMs: 1000,
  progressWebhookIntervalMs: 5000,
  webhookUrlTtlSeconds: 86_400,
};

interface Claimed {
  readonly delivery: Delivery<JobMessage>;
  readonly job: GenerationJob;
  readonly params: GenerationParams;
}

/** Errors the sampler raises for the request itself: retrying cannot help. */
const PERMANENT = new Set([
  'invalid_request',
  'model_not_found',
  'model_config_invalid',
  'encoder_unavailable',
]);

const EXTENSIONS = { png: 'png', webp: 'webp', jpeg: 'jpg' } as const;

/**
 * Polls the jobs queue, claims jobs with conditional writes, runs compatible jobs as one sampler
 * batch, stores outputs, then the terminal state, then deletes the message. Every step is safe to
 * repeat, so a crash anywhere leaves a message that another worker finishes after the
 * visibility timeout, and a redelivered message for a finished job is just deleted.
 */
export class Worker {
  #state: WorkerState = 'starting';
  readonly #o: Omit<WorkerOptions, keyof Settings> & Settings;
  readonly #pollAbort = new AbortController();
  /** Aborts the running batch when a drain runs out of time. */
  #drainAbort = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #throttle: ProgressThrottle;

  constructor(options: WorkerOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.#o = { ...options, ...DEFAULT_SETTINGS, ...defined };
    this.#throttle = new ProgressThrottle(this.#o.progressWebhookIntervalMs);
  }

  get state(): WorkerState {
    return this.#state;
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  #emit(event: WorkerEvent): void {
    try {
      this.#o.onEvent?.(event);
    } catch {
      // An observer's bug must not stop the worker.
    }
  }

  #setState(state: WorkerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit({ type: 'state', state });
  }

  /** Starts polling (models are loaded and warmed by the caller). */
  start(): void {
    if (this.#loop) return;
    this.#setState('ready');
    this.#loop = this.#run();
  }

  /**
   * Graceful stop (SIGTERM): no new work; the batch in flight gets `timeoutMs` to finish, after
   * which it is aborted at the next step and its jobs are handed back to the queue.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#setState('draining');
    this.#pollAbort.abort();
    const timer = setTimeout(() => {
      this.#drainAbort.abort();
    }, timeoutMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
      this.#setState('stopped');
    }
  }

  async #run(): Promise<void> {
    const heartbeat = new Heartbeat(this.#o.queue, this.#o.visibilitySeconds, (error) => {
      this.#emit({ type: 'error', message: 'heartbeat failed', error });
    });
    try {
      while (this.#state === 'ready' || this.#state === 'busy') {
        let deliveries: Delivery<JobMessage>[];
        try {
          deliveries = await this.#o.queue.receive({
            maxMessages: Math.min(10, this.#o.maxBatchImages),
            waitSeconds: this.#o.pollWaitSeconds,
            visibilitySeconds: this.#o.visibilitySeconds,
            signal: this.#pollAbort.signal,
          });
        } catch (error) {
          if (this.#pollAbort.signal.aborted) break;
          this.#emit({ type: 'error', message: 'receive failed', error });
          await sleep(1000);
          continue;
        }
        if (deliveries.length === 0) continue;
        if (this.#state === 'ready') this.#setState('busy');
        for (const d of deliveries) heartbeat.add(d.receipt);
        try {
          await this.#process(deliveries);
        } finally {
          for (const d of deliveries) heartbeat.remove(d.receipt);
        }
        if (this.#state === 'busy') this.#setState('ready');
      }
    } finally {
      heartbeat.stop();
    }
  }

  async #process(deliveries: Delivery<JobMessage>[]): Promise<void> {
    const claimed: Claimed[] = [];
    for (const delivery of deliveries) {
      if (this.#state === 'draining') {
        await this.#o.queue.release(delivery.receipt).catch(() => undefined);
        continue;
      }
      try {
        const c = await this.#claim(delivery);
        if (c) claimed.push(c);
      } catch (error) {
        // The store is unreachable: leave the message to come back after its visibility timeout.
        this.#emit({ type: 'error', message: `claiming ${delivery.body.jobId} failed`, error });
      }
    }
    for (const group of groupCompatible(claimed, this.#o.maxBatchImages)) {
      if (this.#state === 'draining' && this.#drainAbort.signal.aborted) {
        await Promise.all(group.map((c) => this.#release(c, 'worker draining')));
        continue;
      }
      await this.#runGroup(group);
    }
  }

  /** Until when a claim or progress write holds the job: one visibility timeout from `at`. */
  #leaseFrom(at: Date): string {
    return new Date(at.getTime() + this.#o.visibilitySeconds * 1000).toISOString();
  }

  async #announce(
    job: GenerationJob,
    type: WebhookEventType,
    outputUrls?: string[],
  ): Promise<void> {
    if (!this.#o.outbox) return;
    await enqueueWebhookEvent(this.#o.outbox, job, type, { outputUrls }).catch((error: unknown) => {
      this.#emit({ type: 'error', message: `webhook event for ${job.id} not queued`, error });
    });
  }

  async #skip(delivery: Delivery<JobMessage>, reason: string): Promise<undefined> {
    this.#emit({ type: 'message_skipped', jobId: delivery.body.jobId, reason });
    await this.#o.queue.delete(delivery.receipt);
    return undefined;
  }

  /** Ends a job that will not run (expired, canceled, poison, unknown model). */
  async #endWithout(
    delivery: Delivery<JobMessage>,
    job: GenerationJob,
    status: 'failed' | 'canceled' | 'expired',
    error?: GenerationError,
  ): Promise<undefined> {
    const ended = await updateJob(this.#o.jobs, job.tenant, job.id, (current) =>
      isTerminal(current.status)
        ? undefined
        : {
            ...transition(current, status, this.#now()),
            data: { ...current.data, error: error ?? current.data.error },
          },
    );
    if (ended.status === status) {
      this.#emit({ type: 'job_finished', jobId: job.id, status, timings: {} });
      await this.#announce(
        ended,
        status === 'canceled' ? 'generation.canceled' : 'generation.failed',
      );
    }
    return this.#skip(delivery, `ended ${ended.status}`);
  }

  async #claim(delivery: Delivery<JobMessage>): Promise<Claimed | undefined> {
    const { tenant, jobId } = delivery.body;
    let job: GenerationJob;
    try {
      job = await this.#o.jobs.get<GenerationData>(tenant, jobId);
    } catch (error) {
      if (error instanceof JobNotFoundError) return this.#skip(delivery, 'job not found');
      throw error;
    }
    if (isTerminal(job.status)) return this.#skip(delivery, `already ${job.status}`);
    const now = this.#now();
    if (
      job.status === 'queued' &&
      job.data.expiresAt &&
      Date.parse(job.data.expiresAt) < now.getTime()
    ) {
      return this.#endWithout(delivery, job, 'expired', {
        code: 'timeout',
        message: 'the job waited in the queue longer than its time to live',
        retryable: true,
      });
    }
    if (job.data.cancelRequested) return this.#endWithout(delivery, job, 'canceled');
    const leaseLeftMs = Date.parse(job.data.leaseUntil ?? '') - now.getTime();
    if (job.status === 'running' && leaseLeftMs > 0) {
      // A live worker holds the job (its progress writes renew the lease): this is a duplicate
      // message or an early redelivery. Look again once the lease would have run out.
      await this.#o.queue.extend(delivery.receipt, Math.ceil(leaseLeftMs / 1000) + 1);
      this.#emit({ type: 'message_skipped', jobId, reason: 'held by a live worker; deferred' });
      return undefined;
    }
    const attempts = job.data.attempts ?? 0;
    if (attempts >= this.#o.maxAttempts) {
      return this.#endWithout(delivery, job, 'failed', {
        code: 'worker_lost',
        message: `the job was started ${attempts} times and no worker finished it`,
        retryable: false,
      });
    }
    if (!this.#o.models.has(job.data.params.model)) {
      return this.#endWithout(delivery, job, 'failed', {
        code: 'model_not_found',
        message: `this worker does not serve model ${job.data.params.model}`,
        retryable: false,
      });
    }
    const leaseUntil = this.#leaseFrom(now);
    const claimedJob = await updateJob(this.#o.jobs, tenant, jobId, (current) => {
      const attempts = (current.data.attempts ?? 0) + 1;
      if (current.status === 'queued') {
        return {
          ...transition(current, 'running', now),
          data: { ...current.data, attempts, leaseUntil, progress: undefined },
        };
      }
      // Redelivered after a worker died mid-run (its lease ran out): take it over from the start.
      const leaseLive = Date.parse(current.data.leaseUntil ?? '') > now.getTime();
      if (current.status === 'running' && !current.data.cancelRequested && !leaseLive) {
        return {
          ...current,
          startedAt: now.toISOString(),
          data: { ...current.data, attempts, leaseUntil, progress: undefined },
        };
      }
      return undefined;
    });
    if (claimedJob.status !== 'running' || claimedJob.startedAt !== now.toISOString()) {
      return this.#skip(delivery, `not claimable (${claimedJob.status})`);
    }
    this.#emit({ type: 'job_started', jobId, attempt: claimedJob.data.attempts ?? 1 });
    await this.#announce(claimedJob, 'generation.started');
    return { delivery, job: claimedJob, params: claimedJob.data.params };
  }

  /** Hands a job back to the queue; a drain does not count as one of the job's attempts. */
  async #release(c: Claimed, reason: string, countsAsAttempt = false): Promise<void> {
    await updateJob(this.#o.jobs, c.job.tenant, c.job.id, (current) =>
      current.status === 'running'
        ? {
            ...transition(current, 'queued', this.#now()),
            data: {
              ...current.data,
              progress: undefined,
              leaseUntil: undefined,
              attempts: Math.max(0, (current.data.attempts ?? 1) - (countsAsAttempt ? 0 : 1)),
            },
          }
        : undefined,
    ).catch(() => undefined);
    await this.#o.queue.release(c.delivery.receipt).catch(() => undefined);
    this.#emit({ type: 'job_released', jobId: c.job.id, reason });
  }

  async #runGroup(group: Claimed[]): Promise<void> {
    const first = group[0];
    if (!first) return;
    const model = this.#o.models.get(first.params.model);
    if (!model) return;
    const canceled = new Set<string>();
    const batchAbort = new AbortController();
    const drainSignal = this.#drainAbort.signal;
    const onDrain = () => {
      batchAbort.abort(new Error('drain'));
    };
    drainSignal.addEventListener('abort', onDrain);
    let progressChain = Promise.resolve();
    let lastWrite = 0;

    const requests = group.flatMap((c) =>
      Array.from({ length: c.params.numImages }, (_, n) => ({
        prompt: c.params.prompt,
        negativePrompt: c.params.negativePrompt,
        seed: c.params.seed + n,
        steps: c.params.steps,
        guidanceScale: c.params.guidanceScale,
        width: c.params.width,
        height: c.params.height,
        sampler: c.params.sampler,
      })),
    );

    const onProgress = (step: number, total: number) => {
      const now = Date.now();
      if (step < total && now - lastWrite < this.#o.progressIntervalMs) return;
      lastWrite = now;
      progressChain = progressChain.then(() =>
        this.#writeProgress(group, canceled, step, total, batchAbort),
      );
    };

    const started = performance.now();
    let results: Awaited<ReturnType<typeof generate>> | undefined;
    let failure: unknown;
    try {
      results = await generate(model, requests, { onProgress, signal: batchAbort.signal });
    } catch (error) {
      failure = error;
    } finally {
      drainSignal.removeEventListener('abort', onDrain);
    }
    await progressChain;
    const inferenceMs = performance.now() - started;

    if (!results) {
      if (drainSignal.aborted) {
        await Promise.all(
          group
            .filter((c) => !canceled.has(c.job.id))
            .map((c) => this.#release(c, 'worker draining')),
        );
        return;
      }
      if (group.every((c) => canceled.has(c.job.id))) return;
      await Promise.all(
        group.filter((c) => !canceled.has(c.job.id)).map((c) => this.#fail(c, failure)),
      );
      return;
    }
    let offset = 0;
    for (const c of group) {
      const images = results.slice(offset, offset + c.params.numImages);
      offset += c.params.numImages;
      if (canceled.has(c.job.id)) continue;
      try {
        await this.#finish(c, images, model, inferenceMs);
      } catch (error) {
        // Store or blob store down: leave the message; the job is redone after the timeout.
        this.#emit({ type: 'error', message: `finishing ${c.job.id} failed`, error });
      }
    }
  }

  /** Progress at most every progressIntervalMs per batch; also where cancel requests are seen. */
  async #writeProgress(
    group: Claimed[],
    canceled: Set<string>,
    step: number,
    total: number,
    batchAbort: AbortController,
  ): Promise<void> {
    for (const c of group) {
      if (canceled.has(c.job.id)) continue;
      try {
        const job = await updateJob(this.#o.jobs, c.job.tenant, c.job.id, (current) => {
          if (current.status !== 'running') return undefined;
          if (current.data.cancelRequested) {
            return {
              ...transition(current, 'canceled', this.#now()),
              data: { ...current.data, progress: undefined },
            };
          }
          // Another worker took the job over (this one looked dead): stop spending on it.
          if (current.data.attempts !== c.job.data.attempts) return undefined;
          return {
            ...current,
            data: {
              ...current.data,
              progress: { step, total },
              leaseUntil: this.#leaseFrom(new Date()),
            },
          };
        });
        if (job.status === 'running' && job.data.attempts !== c.job.data.attempts) {
          canceled.add(c.job.id);
          this.#emit({
            type: 'job_released',
            jobId: job.id,
            reason: 'taken over by another worker',
          });
          continue;
        }
        if (job.status !== 'running') {
          canceled.add(c.job.id);
          await this.#o.queue.delete(c.delivery.receipt).catch(() => undefined);
          if (job.status === 'canceled') {
            this.#emit({ type: 'job_finished', jobId: job.id, status: 'canceled', timings: {} });
            await this.#announce(job, 'generation.canceled');
          }
          continue;
        }
        this.#emit({ type: 'job_progress', jobId: job.id, step, total });
        if (this.#throttle.take(job.id, step, total))
          await this.#announce(job, 'generation.progress');
      } catch (error) {
        this.#emit({ type: 'error', message: `progress of ${c.job.id} not saved`, error });
      }
    }
    // Nobody wants this batch any more: stop at the next step.
    if (group.every((c) => canceled.has(c.job.id))) batchAbort.abort(new Error('canceled'));
  }

  async #finish(
    c: Claimed,
    images: Awaited<ReturnType<typeof generate>>,
    model: DitModel,
    inferenceMs: number,
  ): Promise<void> {
    const { job, params } = c;
    const format = params.outputFormat;
    const encodeStart = performance.now();
    const files = await Promise.all(
      images.map(async (image, index) => {
        const bytes = await encodeImage(
          { width: image.width, height: image.height, pixels: image.pixels },
          format,
          metadataFor({
            prompt: image.prompt,
            negativePrompt: image.negativePrompt,
            seed: image.seed,
            steps: image.steps,
            guidanceScale: image.guidanceScale,
            sampler: image.sampler,
            model: `${model.config.manifest.name}@${model.config.manifest.version}`,
          }),
        );
        return { bytes, index, image };
      }),
    );
    const encodeMs = performance.now() - encodeStart;
    const uploadStart = performance.now();
    const outputs: GenerationOutput[] = await Promise.all(
      files.map(async ({ bytes, index, image }) => {
        const key = `jobs/${job.tenant}/${job.id}/out/${index}.${EXTENSIONS[format]}`;
        await this.#o.blobs.put(key, bytes, MIME_TYPES[format]);
        return {
          key,
          index,
          seed: image.seed,
          contentType: MIME_TYPES[format],
          bytes: bytes.byteLength,
          width: image.width,
          height: image.height,
        };
      }),
    );
    const uploadMs = performance.now() - uploadStart;
    const queueMs = job.startedAt
      ? Date.parse(job.startedAt) - Date.parse(job.createdAt)
      : undefined;
    const timings: JobTimingsMs = {
      queueMs,
      inferenceMs: Math.round(inferenceMs),
      encodeMs: Math.round(encodeMs),
      uploadMs: Math.round(uploadMs),
    };
    const done = await updateJob(this.#o.jobs, job.tenant, job.id, (current) =>
      current.status === 'running'
        ? {
            ...transition(current, 'succeeded', this.#now()),
            data: {
              ...current.data,
              outputs,
              timings,
              progress: { step: params.steps, total: params.steps },
              cancelRequested: undefined,
            },
          }
        : undefined,
    );
    await this.#o.queue.delete(c.delivery.receipt);
    this.#throttle.done(job.id);
    if (done.status !== 'succeeded' || done.version === job.version) return;
    this.#emit({ type: 'job_finished', jobId: job.id, status: 'succeeded', timings });
    const urls = await Promise.all(
      outputs.map(
        async (o) => (await this.#o.blobs.signedUrl(o.key, this.#o.webhookUrlTtlSeconds)).url,
      ),
    ).catch(() => undefined);
    await this.#announce(done, 'generation.succeeded', urls);
  }

  async #fail(c: Claimed, error: unknown): Promise<void> {
    const code = isDitserveError(error) ? error.code : 'internal';
    const permanent = PERMANENT.has(code);
    if (!permanent && (c.job.data.attempts ?? 1) < this.#o.maxAttempts) {
      await this.#release(
        c,
        `retrying after: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const failed = await updateJob(this.#o.jobs, c.job.tenant, c.job.id, (current) =>
      current.status === 'running'
        ? {
            ...transition(current, 'failed', this.#now()),
            data: {
              ...current.data,
              error: {
                code,
                message: isDitserveError(error)
                  ? error.message
                  : 'the sampler failed; see the worker logs',
                retryable: !permanent,
              },
            },
          }
        : undefined,
    );
    await this.#o.queue.delete(c.delivery.receipt).catch(() => undefined);
    this.#emit({ type: 'error', message: `job ${c.job.id} failed`, error });
    if (failed.status === 'failed') {
      this.#emit({ type: 'job_finished', jobId: c.job.id, status: 'failed', timings: {} });
      await this.#announce(failed, 'generation.failed');
    }
  }
}
