import { setTimeout as sleep } from 'node:timers/promises';
import type { JobMessage, WebhookEventMessage } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';
import type { Delivery, MessageQueue } from '../../../core/ports/message-queue.ts';
import { setMaxListeners } from 'node:events';
import { batchesOf } from './batcher.ts';
import { DEFAULT_WORKER_SETTINGS, type WorkerContext, type WorkerSettings } from './context.ts';
import { Heartbeat } from './heartbeat.ts';
import { ImageSlots } from './image-slots.ts';
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
 * Polls the jobs queue and runs compatible jobs as one sampler batch. With continuous batching
 * (settings.batching) it keeps polling while the images in flight leave room and starts what
 * arrives next to the batches running (the sampler shares their steps); static, it polls again
 * only once idle. What happens to each job is decided from its record
 * (core/jobs/claim-decision.ts) and written with conditional updates (job-actions.ts); a message
 * is deleted only once its job is settled, so a crash anywhere leaves a message that brings the
 * job back after the visibility timeout.
 */
export class Worker {
  #state: WorkerState = 'starting';
  readonly #options: WorkerOptions;
  readonly #settings: WorkerSettings;
  readonly #pollAbort = new AbortController();
  /** Aborts the running batches when a drain runs out of time. */
  readonly #drainAbort = new AbortController();
  /**
   * Jobs (tenant/id) this worker holds: received to run, until their batch is over. A message of
   * one of them that comes back meanwhile (its visibility lapsed under store or queue faults) is
   * deferred here: a worker never takes a job over from itself, which would charge an attempt
   * and could end a job worker_lost with no worker lost (tests/reliability).
   */
  readonly #held = new Set<string>();
  #loop: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    // Every batch in flight listens for the drain (continuous batching runs many at once): not a leak.
    setMaxListeners(0, this.#drainAbort.signal);
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
   * Graceful stop (SIGTERM): no new work, and received jobs not started go back to the queue; the
   * batches in flight get `timeoutMs` to finish, after which they are aborted at the next step
   * and their jobs are handed back to the queue.
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

  /** Whether it takes work (a method: its answer changes across an await). */
  #taking(): boolean {
    return this.#state === 'ready' || this.#state === 'busy';
  }

  async #run(): Promise<void> {
    const s = this.#settings;
    const heartbeat = new Heartbeat(this.#options.queue, s.visibilitySeconds, (error) => {
      this.#emit({ type: 'error', message: 'heartbeat failed', error });
    });
    const context = this.#context(heartbeat);
    const actions = new JobActions(context);
    const slots = new ImageSlots(s.maxBatchImages);
    const inFlight = new Set<Promise<void>>();
    try {
      while (this.#taking()) {
        await slots.room(this.#pollAbort.signal);
        if (!this.#taking()) break;
        const deliveries = await this.#receive(slots.free);
        if (deliveries.length === 0) continue;
        if (this.#state === 'ready') this.#setState('busy');
        for (const d of deliveries) heartbeat.add(d.receipt);
        const placed = this.#place(context, actions, slots, deliveries);
        // In flight from now (its triage too), until its last group has ended.
        const work = placed
          .then(({ ran }) => ran)
          .then(() => {
            // Whatever was not acted on comes back after its visibility timeout.
            for (const d of deliveries) heartbeat.remove(d.receipt);
            inFlight.delete(work);
            if (inFlight.size === 0 && this.#state === 'busy') this.#setState('ready');
          });
        inFlight.add(work);
        // The next receive sees the room these groups leave.
        await placed;
      }
      await Promise.all(inFlight);
    } finally {
      heartbeat.stop();
    }
  }

  /** One receive of at most `room` messages; none when it failed (reported) or was stopped. */
  async #receive(room: number): Promise<Delivery<JobMessage>[]> {
    const s = this.#settings;
    try {
      return await this.#options.queue.receive({
        maxMessages: Math.min(10, room),
        waitSeconds: s.pollWaitSeconds,
        visibilitySeconds: s.visibilitySeconds,
        signal: this.#pollAbort.signal,
      });
    } catch (error) {
      if (!this.#pollAbort.signal.aborted) {
        this.#emit({ type: 'error', message: 'receive failed', error });
        await sleep(1000);
      }
      return [];
    }
  }

  /**
   * Triage, then a run for each group; resolves once every group holds its place in the slots
   * (running or waiting), with `ran` for the end of the last one.
   */
  async #place(
    context: WorkerContext,
    actions: JobActions,
    slots: ImageSlots,
    deliveries: Delivery<JobMessage>[],
  ): Promise<{ readonly ran: Promise<unknown> }> {
    const groups = await this.#triage(actions, deliveries);
    return { ran: Promise.all(groups.map((g) => this.#runGroup(context, actions, slots, g))) };
  }

  /** The received jobs that should run, in compatible groups; acts on every other delivery. */
  async #triage(actions: JobActions, deliveries: Delivery<JobMessage>[]): Promise<Received[][]> {
    const runnable: (Received & { readonly params: Received['job']['data']['params'] })[] = [];
    const seen = new Set<string>();
    for (const delivery of deliveries) {
      const key = `${delivery.body.tenant}/${delivery.body.jobId}`;
      if (seen.has(key)) {
        // Two messages of one job in one receive (a sweep re-sent it): the first one runs it;
        // this one comes back once that run holds or has ended the job. (One in a later
        // receive meets that run in triage or at its claim, as another worker's would.)
        await actions.guard(`deferring a duplicate of ${delivery.body.jobId}`, () =>
          actions.deferDuplicate(delivery),
        );
        continue;
      }
      seen.add(key);
      if (this.#held.has(key)) {
        await actions.guard(`deferring ${delivery.body.jobId}, which this worker holds`, () =>
          actions.deferDuplicate(delivery, 'held by this worker; deferred'),
        );
        continue;
      }
      await actions.guard(`triage of ${delivery.body.jobId}`, async () => {
        const job = await actions.triage(delivery);
        if (!job) return;
        this.#held.add(key);
        runnable.push({ delivery, job, params: job.data.params });
      });
    }
    return batchesOf(runnable, this.#settings.maxBatchImages);
  }

  /**
   * Runs a group once it has room: next to the groups running (continuous), or alone, after
   * them (static: it takes the whole capacity). One not started by a drain goes back.
   */
  async #runGroup(
    context: WorkerContext,
    actions: JobActions,
    slots: ImageSlots,
    group: readonly Received[],
  ): Promise<void> {
    try {
      await this.#runHeldGroup(context, actions, slots, group);
    } finally {
      for (const r of group) this.#held.delete(`${r.job.tenant}/${r.job.id}`);
    }
  }

  async #runHeldGroup(
    context: WorkerContext,
    actions: JobActions,
    slots: ImageSlots,
    group: readonly Received[],
  ): Promise<void> {
    const s = this.#settings;
    const images = group.reduce((n, r) => n + r.job.data.params.numImages, 0);
    const share = s.batching === 'static' ? s.maxBatchImages : images;
    const started = await slots.acquire(share, this.#pollAbort.signal);
    if (!started || this.#state === 'draining') {
      if (started) slots.release(share);
      // Not started, so nothing was charged: the messages simply go back.
      for (const r of group) {
        await actions.guard(`handing back ${r.job.id}`, () => actions.handBack(r.delivery));
      }
      return;
    }
    try {
      await actions.guard(`the batch of ${group.map((r) => r.job.id).join(', ')}`, () =>
        runBatch(context, actions, group, this.#drainAbort.signal),
      );
    } finally {
      slots.release(share);
    }
  }
}
