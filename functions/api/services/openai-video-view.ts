import type { z } from '@hono/zod-openapi';
import type { GenerationJob } from '../../../core/generation.ts';
import type { OpenAiVideo } from '../schemas/openai-video.ts';

type VideoView = z.infer<typeof OpenAiVideo>;

const seconds = (iso: string | undefined) =>
  iso === undefined ? null : Math.floor(Date.parse(iso) / 1000);

/** OpenAI's four states: every way a job ends without a video is `failed`, with its reason. */
function statusOf(job: GenerationJob): VideoView['status'] {
  switch (job.status) {
    case 'queued':
      return 'queued';
    case 'running':
      return 'in_progress';
    case 'succeeded':
      return 'completed';
    default:
      return 'failed';
  }
}

function errorOf(job: GenerationJob): VideoView['error'] {
  if (job.status === 'canceled') return { code: 'generation_canceled', message: 'canceled' };
  if (job.status === 'expired') {
    return { code: 'expired', message: 'the video waited in the queue past its time to live' };
  }
  if (job.status !== 'failed') return null;
  const e = job.data.error;
  return { code: e?.code ?? 'internal', message: e?.message ?? 'the generation failed' };
}

/**
 * A video generation as OpenAI's `Video` object. `seconds` is the clip's own length (for an
 * extension: the new part, which follows its source). Files expire by the bucket's lifecycle,
 * which the API does not know per object: `expires_at` is null.
 */
export function toOpenAiVideo(job: GenerationJob): VideoView {
  const p = job.data.params;
  const frames = p.modality === 'video' ? p.frames : 0;
  const fps = p.modality === 'video' ? p.fps : 1;
  const progress = job.data.progress;
  const percent =
    job.status === 'succeeded'
      ? 100
      : job.status === 'running' && progress
        ? Math.round((100 * progress.step) / Math.max(1, progress.total))
        : 0;
  return {
    id: job.id,
    object: 'video',
    status: statusOf(job),
    progress: percent,
    model: p.model,
    prompt: p.prompt,
    seconds: String(Math.round((frames / fps) * 1000) / 1000),
    size: `${p.width}x${p.height}`,
    created_at: seconds(job.createdAt) ?? 0,
    completed_at: seconds(job.completedAt),
    expires_at: null,
    error: errorOf(job),
    remixed_from_video_id: null,
  };
}
