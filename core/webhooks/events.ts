import { createHash } from 'node:crypto';
import type {
  GenerationJob,
  StoredFile,
  WebhookEventMessage,
  WebhookEventType,
  WebhookTarget,
} from '../generation.ts';
import type { JobStatus } from '../job.ts';

/**
 * The body every webhook POST carries (Standard Webhooks' recommended `{type, timestamp, data}`,
 * with `data` shaped like the API's Generation object, snake_case, as Stripe and Replicate do):
 *
 * ```json
 * { "type": "generation.succeeded", "timestamp": "2025-01-01T00:00:05.000Z",
 *   "data": { "id": "gen_…", "object": "generation", "status": "succeeded", "model": "…",
 *             "outputs": [{ "index": 0, "seed": 42, "content_type": "image/png", "bytes": 1234,
 *                           "width": 512, "height": 512, "url": "https://…" }],
 *             "metadata": { "order": "A-1043" },
 *             "timings": { "created_at": "…", "started_at": "…", "completed_at": "…" } } }
 * ```
 * `progress` appears on started/progress events, `outputs` on succeeded, `error` on failed (and
 * on an expired job, which is reported as `generation.failed` with status `expired`). A video
 * job's output is its clip's main file (the MP4, else the WebP) and `video` has every file of the
 * clip, each with its URL, as the API's generation object does.
 */
export interface WebhookEventBody {
  readonly type: WebhookEventType;
  readonly timestamp: string;
  readonly data: GenerationEventData;
}

export interface GenerationEventData {
  readonly id: string;
  readonly object: 'generation';
  readonly status: JobStatus;
  readonly model: string;
  readonly progress?: { readonly step: number; readonly total: number; readonly percent: number };
  readonly outputs?: readonly EventOutput[];
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  readonly metadata?: Readonly<Record<string, string>>;
  readonly timings: {
    readonly created_at: string;
    readonly started_at?: string;
    readonly completed_at?: string;
  };
}

export interface EventOutput {
  readonly index: number;
  readonly seed: number;
  readonly content_type: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** Present when the caller signed one (BlobStore URLs expire; see BuildEventOptions). */
  readonly url?: string;
  readonly video?: EventClip;
}

/** A clip's files in an event (GenerationOutput.video, snake_case). */
export interface EventClip {
  readonly frames: number;
  readonly fps: number;
  readonly duration_seconds: number;
  readonly mp4?: EventFile;
  readonly webp: EventFile;
  readonly thumbnail: EventFile;
  readonly note?: string;
}

export interface EventFile {
  readonly content_type: string;
  readonly bytes: number;
  readonly url?: string;
}

/** Signed URLs of one clip's files. */
export type ClipUrls = Readonly<Partial<Record<ClipFile, string>>>;
type ClipFile = 'mp4' | 'webp' | 'thumbnail';

export interface BuildEventOptions {
  /** When the event happened; defaults to the job's own timestamp for started/terminal events. */
  readonly now?: Date | undefined;
  /** URL of output n at index n, e.g. long-lived signed BlobStore URLs. */
  readonly outputUrls?: readonly (string | undefined)[] | undefined;
  /** For video jobs: the URLs of clip n's files at index n. */
  readonly clipUrls?: readonly (ClipUrls | undefined)[] | undefined;
}

/** True when the job's webhook subscribes to `type` (all types when it lists none). */
export function webhookWants(target: WebhookTarget | undefined, type: WebhookEventType): boolean {
  if (!target) return false;
  return target.events === undefined || target.events.includes(type);
}

/** The event a job's status change is announced with; undefined for queued. */
export function eventTypeForStatus(status: JobStatus): WebhookEventType | undefined {
  switch (status) {
    case 'queued':
      return undefined;
    case 'running':
      return 'generation.started';
    case 'succeeded':
      return 'generation.succeeded';
    case 'failed':
    case 'expired':
      return 'generation.failed';
    case 'canceled':
      return 'generation.canceled';
  }
}

/**
 * A `webhook-id` derived from what the event is, not when it was built: a worker that crashes
 * and re-announces a terminal job, or a redelivery, sends the id the receiver already saw, so
 * receivers can deduplicate on it. Progress events are keyed by step, starts by attempt.
 */
export function webhookIdFor(job: GenerationJob, type: WebhookEventType): string {
  const discriminator =
    type === 'generation.progress'
      ? String(job.data.progress?.step ?? 0)
      : type === 'generation.started'
        ? String(job.data.attempts ?? 1)
        : '';
  const digest = createHash('sha256')
    .update(`${job.tenant}\n${job.id}\n${type}\n${discriminator}`)
    .digest('base64url')
    .slice(0, 27);
  return `msg_${digest}`;
}

function eventTime(job: GenerationJob, type: WebhookEventType, now: Date | undefined): string {
  if (now) return now.toISOString();
  if (type === 'generation.started' && job.startedAt) return job.startedAt;
  if (type !== 'generation.progress' && job.completedAt) return job.completedAt;
  return new Date().toISOString();
}

function eventData(job: GenerationJob, options: BuildEventOptions): GenerationEventData {
  const { data } = job;
  const progress = data.progress && {
    step: data.progress.step,
    total: data.progress.total,
    percent:
      data.progress.total > 0
        ? Math.round((1000 * data.progress.step) / data.progress.total) / 10
        : 0,
  };
  const outputs = data.outputs?.map((o): EventOutput => {
    const url = options.outputUrls?.[o.index];
    const clip = o.video;
    const urls = options.clipUrls?.[o.index];
    const file = (name: ClipFile, f: StoredFile): EventFile => {
      const at = urls?.[name];
      return {
        content_type: f.contentType,
        bytes: f.bytes,
        ...(at === undefined ? {} : { url: at }),
      };
    };
    return {
      index: o.index,
      seed: o.seed,
      content_type: o.contentType,
      bytes: o.bytes,
      width: o.width,
      height: o.height,
      ...(url === undefined ? {} : { url }),
      ...(clip && {
        video: {
          frames: clip.frames,
          fps: clip.fps,
          duration_seconds: clip.durationSeconds,
          ...(clip.mp4 && { mp4: file('mp4', clip.mp4) }),
          webp: file('webp', clip.webp),
          thumbnail: file('thumbnail', clip.thumbnail),
          ...(clip.note === undefined ? {} : { note: clip.note }),
        },
      }),
    };
  });
  return {
    id: job.id,
    object: 'generation',
    status: job.status,
    model: data.params.model,
    ...(progress && job.status === 'running' ? { progress } : {}),
    ...(outputs && job.status === 'succeeded' ? { outputs } : {}),
    ...(data.error ? { error: { ...data.error } } : {}),
    ...(data.metadata ? { metadata: data.metadata } : {}),
    timings: {
      created_at: job.createdAt,
      ...(job.startedAt ? { started_at: job.startedAt } : {}),
      ...(job.completedAt ? { completed_at: job.completedAt } : {}),
    },
  };
}

/**
 * The outbox message announcing `type` for `job`, or undefined when the job has no webhook or
 * its filter leaves this type out. The caller sends it to the outbox MessageQueue.
 */
export function buildWebhookEvent(
  job: GenerationJob,
  type: WebhookEventType,
  options: BuildEventOptions = {},
): WebhookEventMessage | undefined {
  const target = job.data.webhook;
  if (!target || !webhookWants(target, type)) return undefined;
  return {
    id: webhookIdFor(job, type),
    tenant: job.tenant,
    jobId: job.id,
    type,
    url: target.url,
    timestamp: eventTime(job, type, options.now),
    data: eventData(job, options),
  };
}

/** The exact bytes POSTed (and signed) for a message; identical on every retry. */
export function webhookBody(message: WebhookEventMessage): string {
  return JSON.stringify({ type: message.type, timestamp: message.timestamp, data: message.data });
}
