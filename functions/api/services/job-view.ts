import type { GenerationJob } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import type { GenerationView } from '../schemas/generation.ts';

const msBetween = (a: string | undefined, b: string | undefined) =>
  a && b ? Math.max(0, Date.parse(b) - Date.parse(a)) : undefined;

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
      };
    }),
  );
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
