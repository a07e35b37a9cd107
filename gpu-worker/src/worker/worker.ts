import { setTimeout as sleep } from 'node:timers/promises';
import type { JobMessage, WebhookEventMessage } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';
import type { Delivery, MessageQueue } from '../../../core/ports/message-queue.ts';
import { batchesOf } from './batcher.ts';
import { DEFAULT_WORKER_SETTINGS, type WorkerContext, type WorkerSettings } from './context.ts';
import { Heartbeat } from './heartbeat.ts';
import { JobActions } from './job-actions.ts';
import { runBatch, type Received } from './run-batch.ts';
import type { Sampler } from './sampler-port.ts';
import type { WorkerEvent, WorkerListener, WorkerState } from './state.ts';

export interface WorkerOptions extends Partial<WorkerSettings> {
  readonly jobs: JobStore;
  readonly queue: MessageQueue<JobMessage>;
  readonly blobs: BlobStore;
  /** Webhook events go here; none are sent without it. */
  readonly outbox?: MessageQueue<WebhookEventMessage> | undefined;
  /** Turns requests into pixels; the worker never touches a model itself. */
  readonly sampler: Sampler;
  readonly onEvent?: WorkerListener | undefined;
  readonly now?: (() => Date) | undefined;
}

/**
 * Polls the jobs queue and runs compatible jobs as one sampler batch. What happens to each job
 * is decided from its record (core/jobs/claim-decision.ts) and written with conditional updates
 * (job-actions.ts); a message is deleted only once its job is settled, so a crash anywhere
 * leaves a message that brings the job back after the visibility timeout.
 */
export class Worker {
  #state: WorkerState = 'starting';
  readonly #options: WorkerOptions;
  readonly #settings: WorkerSettings;
  readonly #pollAbort = new AbortController();
  /** Aborts the running batch when a drain runs out of time. */
  readonly #drainAbort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    this.#options = options;
    const given = Object.fromEntries(
      Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_WORKER_SETTINGS),
    );
    this.#settings = { ...DEFAULT_WORKER_SETTINGS, ...given };
  }

  get state(): WorkerState {
    return this.#state;
  }

  readonly #emit = (event: WorkerEvent): void => {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // An observer's bug must not stop the worker.
    }
  };

  #setState(state: WorkerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit({ type: 'state', state });
  }

  /** Starts polling (the sampler is loaded and warmed by the caller). */
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

  /** The context every part works with; its queue stops heartbeating a message once acted on. */
  #context(heartbeat: Heartbeat): WorkerContext {
    const o = this.#options;
    const queue = o.queue;
    const letGo = (receipt: string) => {
      heartbeat.remove(receipt);
    };
    return {
      jobs: o.jobs,
      blobs: o.blobs,
      outbox: o.outbox,
      sampler: o.sampler,
      settings: this.#settings,
      now: o.now ?? (() => new Date()),
      emit: this.#emit,
      queue: {
        send: (body, options) => queue.send(body, options),
        receive: (options) => queue.receive(options),
        extend: (receipt, seconds) => (letGo(receipt), queue.extend(receipt, seconds)),
        release: (receipt) => (letGo(receipt), queue.release(receipt)),
        delete: (receipt) => (letGo(receipt), queue.delete(receipt)),
        depth: () => queue.depth(),
        ping: () => queue.ping(),
      },
    };
  }

  async #run(): Promise<void> {
    const s = this.#settings;
    const heartbeat = new Heartbeat(this.#options.queue, s.visibilitySeconds, (error) => {
      this.#emit({ type: 'error', message: 'heartbeat failed', error });
    });
    const context = this.#context(heartbeat);
    const actions = new JobActions(context);
    try {
      while (this.#state === 'ready' || this.#state === 'busy') {
        let deliveries: Delivery<JobMessage>[];
        try {
          deliveries = await this.#options.queue.receive({
            maxMessages: Math.min(10, s.maxBatchImages),
            waitSeconds: s.pollWaitSeconds,
            visibilitySeconds: s.visibilitySeconds,
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
          await this.#process(context, actions, deliveries);
        } finally {
          // Whatever was not acted on comes back after its visibility timeout.
          for (const d of deliveries) heartbeat.remove(d.receipt);
        }
        if (this.#state === 'busy') this.#setState('ready');
      }
    } finally {
      heartbeat.stop();
    }
  }

  async #process(
    context: WorkerContext,
    actions: JobActions,
    deliveries: Delivery<JobMessage>[],
  ): Promise<void> {
    const runnable: (Received & { readonly params: Received['job']['data']['params'] })[] = [];
    const seen = new Set<string>();
    for (const delivery of deliveries) {
      const key = `${delivery.body.tenant}/${delivery.body.jobId}`;
      if (seen.has(key)) {
        // Two messages of one job in one receive (a sweep re-sent it): the first one runs it;
        // this one comes back once that run holds or has ended the job.
        await actions.guard(`deferring a duplicate of ${delivery.body.jobId}`, () =>
          actions.deferDuplicate(delivery),
        );
        continue;
      }
      seen.add(key);
      await actions.guard(`triage of ${delivery.body.jobId}`, async () => {
        const job = await actions.triage(delivery);
        if (job) runnable.push({ delivery, job, params: job.data.params });
      });
    }
    for (const group of batchesOf(runnable, this.#settings.maxBatchImages)) {
      if (this.#state === 'draining') {
        // Not started, so nothing was charged: the messages simply go back.
        for (const r of group) {
          await actions.guard(`handing back ${r.job.id}`, () => actions.handBack(r.delivery));
        }
        continue;
      }
      await runBatch(context, actions, group, this.#drainAbort.signal);
    }
  }
}
