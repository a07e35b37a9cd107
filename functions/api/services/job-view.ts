import type { GenerationJob, StoredFile } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import type { GenerationView } from '../schemas/generation.ts';

const msBetween = (a: string | undefined, b: string | undefined) =>
  a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : undefined;

async function fileView(blobs: BlobStore, file: StoredFile, ttl: number) {
  const signed = await blobs.signedUrl(file.key, ttl);
  return {
    url: signed.url,
    expires_at: signed.expiresAt,
    content_type: file.contentType,
    bytes: file.bytes,
  };
}

/** The public shape of a job: outputs as fresh signed URLs, links absolute to `origin`. */
export async function toView(
  job: GenerationJob,
  blobs: BlobStore,
  origin: string,
  urlTtlSeconds: number,
  queuePosition?: number,
): Promise<GenerationView> {
  const d = job.data;
  const p = d.params;
  const self = `${origin}/v1/generations/${job.id}`;
  const outputs = await Promise.all(
    (d.outputs ?? []).map(async (o) => {
      const signed = await blobs.signedUrl(o.key, urlTtlSeconds);
      return {
        index: o.index,
        url: signed.url,
        expires_at: signed.expiresAt,
        content_type: o.contentType,
        bytes: o.bytes,
        width: o.width,
        height: o.height,
        seed: o.seed,
        video: o.video && {
          frames: o.video.frames,
          fps: o.video.fps,
          duration_seconds: o.video.durationSeconds,
          mp4: o.video.mp4 && (await fileView(blobs, o.video.mp4, urlTtlSeconds)),
          webp: await fileView(blobs, o.video.webp, urlTtlSeconds),
          thumbnail: await fileView(blobs, o.video.thumbnail, urlTtlSeconds),
          note: o.video.note,
        },
      };
    }),
  );
  const video =
    p.modality === 'video'
      ? {
          frames: p.frames,
          fps: p.fps,
          duration_seconds: p.frames / p.fps,
          image_to_video: p.initImageKey !== undefined,
          extend: p.extendOf?.generationId,
          extend_clip: p.extendOf?.clip,
        }
      : {};
  const progress =
    d.progress && job.status === 'running'
      ? {
          ...d.progress,
          percent: Math.round((1000 * d.progress.step) / Math.max(1, d.progress.total)) / 10,
        }
      : undefined;
  return {
    id: job.id,
    object: 'generation',
    status: job.status,
    model: p.model,
    modality: p.modality ?? 'image',
    input: {
      prompt: p.prompt,
      negative_prompt: p.negativePrompt,
      width: p.width,
      height: p.height,
      steps: p.steps,
      guidance_scale: p.guidanceScale,
      sampler: p.sampler,
      seed: p.seed,
      num_images: p.numImages,
      output_format: p.outputFormat,
      ...video,
    },
    queue_position: job.status === 'queued' ? queuePosition : undefined,
    progress,
    timings: {
      created_at: job.createdAt,
      started_at: job.startedAt,
      completed_at: job.completedAt,
      queue_ms: d.timings?.queueMs ?? msBetween(job.createdAt, job.startedAt),
      inference_ms: d.timings?.inferenceMs,
    },
    outputs,
    error: d.error,
    cancel_requested: d.cancelRequested && job.status === 'running' ? true : undefined,
    metadata: d.metadata,
    webhook: d.webhook
      ? { url: d.webhook.url, events: d.webhook.events ? [...d.webhook.events] : undefined }
      : undefined,
    warnings: d.warnings ? [...d.warnings] : undefined,
    links: { self, cancel: `${self}/cancel`, events: `${self}/events` },
  };
}
