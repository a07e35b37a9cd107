import type { JobMessage, WebhookEventMessage } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';
import type { MessageQueue } from '../../../core/ports/message-queue.ts';
import { SETTINGS } from '../../../core/settings.ts';
import type { Sampler } from './sampler-port.ts';
import type { WorkerEvent } from './state.ts';

/**
 * How a worker takes work (DITSERVE_BATCHING). continuous: it keeps receiving while fewer than
 * maxBatchImages images are in flight, and starts each group as soon as it fits next to those
 * running (the sampler then shares their steps, where the model has a step graph). static: it
 * runs what one receive brought, group after group, before it receives again.
 */
export type Batching = (typeof SETTINGS.batching.choices)[number];

/**
 * Whether the sampler loads its models' step graphs (loadModel's `stepGraph`): only continuous
 * intake makes the concurrent calls they share steps among; static is today's path throughout.
 */
export const stepGraphFor = (batching: Batching): boolean => batching === 'continuous';

/** The worker's settings, every one with its default in DEFAULT_WORKER_SETTINGS. */
export interface WorkerSettings {
  /** Most images in one sampler batch; with continuous batching, most images in flight. */
  readonly maxBatchImages: number;
  readonly batching: Batching;
  /** Seconds a received message stays hidden; heartbeats renew it, and a lease lasts as long. */
  readonly visibilitySeconds: number;
  /** Long-poll wait (SQS's maximum is 20). */
  readonly pollWaitSeconds: number;
  /** Starts of one job before it is failed. */
  readonly maxAttempts: number;
  /** Minimum time between progress writes per batch (where cancel requests are seen). */
  readonly progressIntervalMs: number;
  /** Minimum time between progress webhooks per job. */
  readonly progressWebhookIntervalMs: number;
  /** Lifetime of output URLs put into webhook events. */
  readonly webhookUrlTtlSeconds: number;
  /** Backoff before a transient failure is retried, times the attempts so far. */
  readonly retryDelaySeconds: number;
  /** The ffmpeg that writes video jobs' MP4s (DITSERVE_FFMPEG); without libx264, WebP only. */
  readonly ffmpeg: string;
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = {
  maxBatchImages: SETTINGS.batchSize.default,
  batching: SETTINGS.batching.default,
  visibilitySeconds: SETTINGS.visibilitySeconds.default,
  pollWaitSeconds: SETTINGS.pollSeconds.default,
  maxAttempts: SETTINGS.maxAttempts.default,
  progressIntervalMs: 1000,
  progressWebhookIntervalMs: 5000,
  webhookUrlTtlSeconds: 86_400,
  retryDelaySeconds: SETTINGS.retryDelaySeconds.default,
  ffmpeg: SETTINGS.ffmpeg.default,
};

/** What every part of the worker works with: the ports, the settings, a clock and a reporter. */
export interface WorkerContext {
  readonly jobs: JobStore;
  readonly queue: MessageQueue<JobMessage>;
  readonly blobs: BlobStore;
  readonly outbox?: MessageQueue<WebhookEventMessage> | undefined;
  readonly sampler: Sampler;
  readonly settings: WorkerSettings;
  readonly now: () => Date;
  readonly emit: (event: WorkerEvent) => void;
}
