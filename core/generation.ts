import type { ErrorCode } from './errors.ts';
import type { JobRecord } from './ports/job-store.ts';

/** Output formats a generation can ask for; PNG is lossless and carries the parameters. */
export type OutputFormat = 'png' | 'webp' | 'jpeg';

/** Webhook event types, named as integrators see them (Standard Webhooks `type`). */
export const WEBHOOK_EVENT_TYPES = [
  'generation.started',
  'generation.progress',
  'generation.succeeded',
  'generation.failed',
  'generation.canceled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What the client asked for, after validation and with every default filled in. */
export interface GenerationParams {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly model: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  /** Seed of the first image; image n uses seed + n, so every image is reproducible alone. */
  readonly seed: number;
  readonly numImages: number;
  readonly outputFormat: OutputFormat;
}

export interface WebhookTarget {
  readonly url: string;
  /** Event types to deliver; all of them when absent. */
  readonly events?: readonly WebhookEventType[] | undefined;
}

/** One stored image; `key` is the BlobStore key, turned into a URL when the job is read. */
export interface GenerationOutput {
  readonly key: string;
  readonly index: number;
  readonly seed: number;
  readonly contentType: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
}

export interface GenerationError {
  readonly code: ErrorCode | 'internal' | 'timeout' | 'worker_lost';
  readonly message: string;
  readonly retryable: boolean;
}

export interface GenerationTimings {
  readonly queueMs?: number | undefined;
  readonly inferenceMs?: number | undefined;
  readonly encodeMs?: number | undefined;
  readonly uploadMs?: number | undefined;
}

/** The job-specific part of a generation's record (JobRecord.data). */
export interface GenerationData {
  readonly params: GenerationParams;
  readonly webhook?: WebhookTarget | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The API key that created the job, for audit (never the secret). */
  readonly keyId?: string | undefined;
  readonly progress?: { readonly step: number; readonly total: number } | undefined;
  /** Set by the API; the worker stops at the next step boundary and ends the job canceled. */
  readonly cancelRequested?: boolean | undefined;
  readonly outputs?: readonly GenerationOutput[] | undefined;
  readonly error?: GenerationError | undefined;
  readonly timings?: GenerationTimings | undefined;
  /** How many times a worker has started this job (redeliveries after a crash add one). */
  readonly attempts?: number | undefined;
  /**
   * While running: the worker holding the job renews this with its progress writes; a message
   * for a running job whose lease is live is a duplicate and waits, an expired one is taken over.
   */
  readonly leaseUntil?: string | undefined;
  /** Things the client should know but that did not stop the job (e.g. unknown words). */
  readonly warnings?: readonly string[] | undefined;
  /** Jobs still queued after this instant become expired instead of running. */
  readonly expiresAt?: string | undefined;
  /** Set when a job goes back to the queue: when it did (the sweeper measures waits from it). */
  readonly queuedAt?: string | undefined;
  /** A job retried after a transient failure does not start again before this instant. */
  readonly retryAt?: string | undefined;
  /** Why the last attempt did not finish, while the job waits to be retried. */
  readonly lastError?: GenerationError | undefined;
  /** When the sweeper last sent this job's message again (it does so at most once a period). */
  readonly sweptAt?: string | undefined;
}

export type GenerationJob = JobRecord<GenerationData>;

/** The queue message: only ids, the store is the source of truth (docs/architecture.md). */
export interface JobMessage {
  readonly tenant: string;
  readonly jobId: string;
  readonly traceId?: string | undefined;
}

/** An event for the webhook outbox; the dispatcher signs and delivers it. */
export interface WebhookEventMessage {
  /** Stable across retries: the Standard Webhooks `webhook-id`. */
  readonly id: string;
  readonly tenant: string;
  readonly jobId: string;
  readonly type: WebhookEventType;
  readonly url: string;
  /** ISO time the event happened. */
  readonly timestamp: string;
  readonly data: unknown;
  /** Delivery attempts so far (the dispatcher re-enqueues with a delay on failure). */
  readonly attempt?: number | undefined;
}
