import type { ModelInfo, VideoCapabilities } from '../../../core/model-catalog.ts';
import { ValidationError, type FieldProblem } from '../errors.ts';
import type { GenerationCreateBody } from '../schemas/generation.ts';

/** Fields that only a video model takes, and those that only an image model takes. */
const VIDEO_FIELDS = [
  'frames',
  'duration_seconds',
  'fps',
  'init_image',
  'extend',
  'extend_clip',
] as const;
const IMAGE_FIELDS = ['output_format'] as const;

/** Every field sent that the model's modality has no use for, as one 422 listing them all. */
export function checkModalityFields(body: GenerationCreateBody, model: ModelInfo): void {
  const problems: FieldProblem[] = model.video
    ? IMAGE_FIELDS.filter((f) => body[f] !== undefined).map((field) => ({
        field,
        message: `is for image models; ${model.id} makes video (MP4, animated WebP and a PNG thumbnail per clip)`,
        allowed: 'leave it out for a video model',
      }))
    : VIDEO_FIELDS.filter((f) => body[f] !== undefined).map((field) => ({
        field,
        message: `is for video models; ${model.id} makes images`,
        allowed: 'leave it out, or pick a video model (GET /v1/models, modality "video")',
      }));
  if (problems.length) throw new ValidationError(problems);
}

/**
 * The frame counts a clip may have: within the model's range and a multiple of its step. An
 * extension returns only its new frames, so those plus the context must be such a count.
 */
function allowedFrames(video: VideoCapabilities, extending: boolean): number[] {
  const context = extending ? video.extendContextFrames : 0;
  const counts: number[] = [];
  for (let total = video.frames.min; total <= video.frames.max; total++) {
    if (total % video.frames.multipleOf === 0 && total - context >= 1) counts.push(total - context);
  }
  return counts;
}

function describe(counts: readonly number[], step: number, fps: number): string {
  const first = counts[0] ?? 0;
  const last = counts.at(-1) ?? 0;
  const seconds = (n: number) => Math.round((n / fps) * 1000) / 1000;
  return `${first}–${last} frames in steps of ${step} (${seconds(first)}–${seconds(last)} s at ${fps} fps)`;
}

/** The clip's frame count from `frames` or `duration_seconds`, or the model's default. */
function pickFrames(body: GenerationCreateBody, model: ModelInfo, video: VideoCapabilities) {
  const extending = body.extend !== undefined;
  const counts = allowedFrames(video, extending);
  const step = video.frames.multipleOf;
  const allowed = `${describe(counts, step, video.fps)}${extending ? `, context of ${video.extendContextFrames} not counted when extending` : ''}`;
  if (body.frames !== undefined && body.duration_seconds !== undefined) {
    throw ValidationError.field(
      'duration_seconds',
      'cannot be combined with frames',
      'either frames or duration_seconds',
    );
  }
  const nearest = (target: number) =>
    counts.reduce((best, n) =>
      Math.abs(n - target) < Math.abs(best - target) ||
      (Math.abs(n - target) === Math.abs(best - target) && n > best)
        ? n
        : best,
    );
  if (body.frames !== undefined) {
    if (!counts.includes(body.frames)) {
      throw ValidationError.field(
        'frames',
        `model ${model.id} cannot make a clip of ${body.frames} frames`,
        allowed,
      );
    }
    return body.frames;
  }
  if (body.duration_seconds !== undefined) {
    const target = body.duration_seconds * video.fps;
    const frames = nearest(target);
    // Rounding picks among the allowed counts; it does not stretch the range.
    if (Math.abs(frames - target) > step / 2) {
      throw ValidationError.field(
        'duration_seconds',
        `${body.duration_seconds} s is ${target} frames at ${video.fps} fps, outside what model ${model.id} makes`,
        allowed,
      );
    }
    return frames;
  }
  return nearest(extending ? video.defaultFrames - video.extendContextFrames : video.defaultFrames);
}

/** What a video model's request resolves to (before the init image and extend are checked). */
export function resolveVideo(
  body: GenerationCreateBody,
  model: ModelInfo,
  video: VideoCapabilities,
): { frames: number; fps: number } {
  if (body.fps !== undefined && body.fps !== video.fps) {
    throw ValidationError.field(
      'fps',
      `model ${model.id} plays at ${video.fps} fps (its motion is learnt at that rate)`,
      String(video.fps),
    );
  }
  if (body.init_image !== undefined && !video.imageToVideo) {
    throw ValidationError.field(
      'init_image',
      `model ${model.id} cannot start a clip from an image`,
      'leave it out for this model',
    );
  }
  if (body.extend !== undefined && !video.extend) {
    throw ValidationError.field(
      'extend',
      `model ${model.id} cannot extend clips`,
      'leave it out for this model',
    );
  }
  if (body.init_image !== undefined && body.extend !== undefined) {
    throw ValidationError.field(
      'init_image',
      'cannot be combined with extend (an extension starts from the clip it continues)',
      'either init_image or extend',
    );
  }
  if (body.extend_clip !== undefined && body.extend === undefined) {
    throw ValidationError.field('extend_clip', 'is only for extend', 'give extend too');
  }
  return { frames: pickFrames(body, model, video), fps: video.fps };
}
