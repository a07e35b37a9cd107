import type {
  ExtendSource,
  GenerationJob,
  VideoGenerationParams,
} from '../../../core/generation.ts';
import type { VideoCapabilities } from '../../../core/model-catalog.ts';
import { JobNotFoundError, type JobStore } from '../../../core/ports/job-store.ts';
import { ReferencedGenerationError, ValidationError } from '../errors.ts';
import type { GenerationCreateBody } from '../schemas/generation.ts';
import { decodeInitImage, type InitImageFile } from './init-image.ts';
import { visibleJob } from './visible-job.ts';

/** What a video request brings besides its parameters, checked before anything is stored. */
export interface VideoInputs {
  /** The init image file as sent (its header checked), to store under KEYS.input. */
  readonly initImage?: InitImageFile | undefined;
  readonly extendOf?: ExtendSource | undefined;
  /** The parameters with an extension's size taken from its source. */
  readonly params: VideoGenerationParams;
}

/**
 * The clip `extend` names: a succeeded video generation of the same model, of this tenant (404
 * otherwise, as for any other tenant's id), which has that clip. An extension keeps its size.
 */
async function extendSource(
  jobs: JobStore,
  tenant: string,
  body: GenerationCreateBody,
  params: VideoGenerationParams,
  video: VideoCapabilities,
): Promise<{ source: ExtendSource; width: number; height: number }> {
  const id = body.extend ?? '';
  let job: GenerationJob;
  try {
    job = await visibleJob(jobs, tenant, id);
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error;
    throw new ReferencedGenerationError(
      'job_not_found',
      `extend: no generation ${id}`,
      'extend',
      'the id of one of your succeeded video generations',
    );
  }
  const p = job.data.params;
  if (p.modality !== 'video' || p.model !== params.model) {
    throw ValidationError.field(
      'extend',
      `${id} is ${p.modality === 'video' ? 'a video' : 'an image'} generation of model ${p.model}`,
      `a video generation of model ${params.model}`,
    );
  }
  if (job.status !== 'succeeded') {
    throw new ReferencedGenerationError(
      'generation_not_succeeded',
      `extend: generation ${id} is ${job.status}; only a succeeded video can be extended`,
      'extend',
      'a succeeded video generation',
    );
  }
  const clips = job.data.outputs ?? [];
  const clip = body.extend_clip ?? 0;
  const output = clips.find((o) => o.index === clip);
  if (!output?.video) {
    throw ValidationError.field(
      'extend_clip',
      `generation ${id} has no clip ${clip}`,
      clips.length ? `0–${clips.length - 1}` : 'none: it has no clips',
    );
  }
  const sized = body.width !== undefined || body.aspect_ratio !== undefined;
  if (sized && (params.width !== output.width || params.height !== output.height)) {
    throw ValidationError.field(
      body.aspect_ratio !== undefined ? 'aspect_ratio' : 'width',
      `an extension keeps the size of the clip it continues`,
      `${output.width}x${output.height}, or leave the size out`,
    );
  }
  return {
    source: {
      generationId: id,
      clip,
      key: output.video.webp.key,
      contextFrames: video.extendContextFrames,
    },
    width: output.width,
    height: output.height,
  };
}

/** Decodes the init image and checks the clip to extend; nothing is written. */
export async function videoInputs(
  jobs: JobStore,
  tenant: string,
  body: GenerationCreateBody,
  params: VideoGenerationParams,
  video: VideoCapabilities,
  maxInitImageBytes: number,
): Promise<VideoInputs> {
  if (body.init_image !== undefined) {
    return {
      params,
      initImage: decodeInitImage(body.init_image, 'init_image', maxInitImageBytes),
    };
  }
  if (body.extend !== undefined) {
    const { source, width, height } = await extendSource(jobs, tenant, body, params, video);
    return { params: { ...params, width, height }, extendOf: source };
  }
  return { params };
}
