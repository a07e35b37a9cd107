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
interface CommonParams {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly model: string;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  /** Seed of the first image (or clip); image n uses seed + n, so each is reproducible alone. */
  readonly seed: number;
  /** Images, or for a video model clips, to make. */
  readonly numImages: number;
  /** The images' format; for video always png (the thumbnail's: the clip formats are fixed). */
  readonly outputFormat: OutputFormat;
}

/** Records written before video existed have no `modality`: they are image jobs. */
export interface ImageGenerationParams extends CommonParams {
  readonly modality?: 'image' | undefined;
}

/**
 * A video job: `numImages` clips of `frames` frames each, played at `fps` (the model's). The
 * worker generates `frames` frames, or for an extension `frames + extendOf.contextFrames` of
 * which it returns the last `frames`.
 */
export interface VideoGenerationParams extends CommonParams {
  readonly modality: 'video';
  /** Frames of each returned clip; an extension's new frames, its context not counted. */
  readonly frames: number;
  readonly fps: number;
  /**
   * Image-to-video: the BlobStore key (KEYS.input, `init.png`) of the init image, a PNG as the
   * client sent it (decoded and re-encoded, any size): the worker resizes and center-crops it to
   * width x height and gives it as frame 0.
   */
  readonly initImageKey?: string | undefined;
  readonly extendOf?: ExtendSource | undefined;
}

export type GenerationParams = ImageGenerationParams | VideoGenerationParams;

/** The clip an extension continues, checked at submit: a succeeded video of the same model. */
export interface ExtendSource {
  readonly generationId: string;
  /** Which of that generation's clips (its output index). */
  readonly clip: number;
  /** That clip's animated WebP (every clip has one), whose last `contextFrames` frames are given. */
  readonly key: string;
  /** How many of its last frames are given as the new clip's first (manifest extend_context_frames). */
  readonly contextFrames: number;
}

export interface WebhookTarget {
  readonly url: string;
  /** Event types to deliver; all of them when absent. */
  readonly events?: readonly WebhookEventType[] | undefined;
}

/**
 * One stored image, or one clip of a video job; `key` is the BlobStore key, turned into a URL
 * when the job is read. For a clip, key/contentType/bytes are its main file: the MP4 when there
 * is one, else the animated WebP, so readers of one file per output get a playable one.
 */
export interface GenerationOutput {
  readonly key: string;
  readonly index: number;
  readonly seed: number;
  readonly contentType: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** Video jobs only: the clip's files and timing. */
  readonly video?: VideoClipOutput | undefined;
}

/** A file of a clip in the BlobStore (keys: KEYS.videoOutput). */
export interface StoredFile {
  readonly key: string;
  readonly contentType: string;
  readonly bytes: number;
}

/** What a worker stores for each clip of a video job (docs/api.md, "Video outputs"). */
export interface VideoClipOutput {
  readonly frames: number;
  readonly fps: number;
  /** frames / fps. */
  readonly durationSeconds: number;
  /** video/mp4 (H.264); absent where the worker has no H.264 encoder, and `note` says why. */
  readonly mp4?: StoredFile | undefined;
  /** image/webp, animated, looping; always there. */
  readonly webp: StoredFile;
  /** image/png of frame 0. */
  readonly thumbnail: StoredFile;
  readonly note?: string | undefined;
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
  /**
   * Set by DELETE /v1/videos/{id} once the job's files are removed: the record stays, as a
   * tombstone that every read through the API answers as 404.
   */
  readonly deletedAt?: string | undefined;
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
