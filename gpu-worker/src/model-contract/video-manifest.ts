import type { Modality, VideoCapabilities } from '../../../core/model-catalog.ts';
import { ModelConfigError } from '../sampler/errors.ts';
import type { JsonFields } from '../sampler/json-file.ts';

export type { Modality };
/** What a model generates; model_index.json's ditserve.modality ("image" when absent). */
export const MODALITIES: readonly Modality[] = ['image', 'video'];

/** The frame counts a video model accepts: min ≤ frames ≤ max, frames a multiple of multipleOf. */
export type FrameRange = VideoCapabilities['frames'];

/**
 * The "video" entry of a video model's manifest (and its defaults.frames): the catalog's
 * VideoCapabilities, which the API reads, as the manifest gives them.
 */
export type VideoManifest = VideoCapabilities;

/** Whether `frames` is a clip length the model accepts. */
export function isAllowedFrameCount(range: FrameRange, frames: number): boolean {
  return (
    Number.isInteger(frames) &&
    frames >= range.min &&
    frames <= range.max &&
    frames % range.multipleOf === 0
  );
}

/** "an integer in [8, 24], a multiple of 2": what an error about frames says is allowed. */
export function describeFrameRange(range: FrameRange): string {
  const multiple = range.multipleOf > 1 ? `, a multiple of ${range.multipleOf}` : '';
  return `an integer in [${range.min}, ${range.max}]${multiple}`;
}

function bool(fields: JsonFields, key: string): boolean {
  const v = fields.value[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') {
    throw new ModelConfigError(`${fields.where}: "${key}" must be true or false`);
  }
  return v;
}

/** ditserve.modality: "image" when absent. */
export function parseModality(manifest: JsonFields): Modality {
  if (!manifest.has('modality')) return 'image';
  const modality = manifest.string('modality');
  if (!(MODALITIES as readonly string[]).includes(modality)) {
    throw new ModelConfigError(
      `${manifest.where}: "modality" must be one of ${MODALITIES.join(', ')}, got "${modality}"`,
    );
  }
  return modality as Modality;
}

/**
 * The "video" entry and defaults.frames of a video model's manifest, checked against each other:
 * the default clip length is allowed, and an extension keeps at least one new frame.
 */
export function parseVideoManifest(manifest: JsonFields, defaults: JsonFields): VideoManifest {
  const v = manifest.object('video');
  const f = v.object('frames');
  const frames = {
    min: f.integer('min'),
    max: f.integer('max'),
    multipleOf: f.has('multiple_of') ? f.integer('multiple_of') : 1,
  };
  if (frames.max < frames.min) {
    throw new ModelConfigError(`${f.where}: "max" (${frames.max}) is below "min" (${frames.min})`);
  }
  const first = Math.ceil(frames.min / frames.multipleOf) * frames.multipleOf;
  if (first > frames.max) {
    throw new ModelConfigError(
      `${f.where}: no multiple of ${frames.multipleOf} lies in [${frames.min}, ${frames.max}]`,
    );
  }
  const defaultFrames = defaults.has('frames') ? defaults.integer('frames') : first;
  if (!isAllowedFrameCount(frames, defaultFrames)) {
    throw new ModelConfigError(
      `${defaults.where}: "frames" must be ${describeFrameRange(frames)}, got ${defaultFrames}`,
    );
  }
  const extend = bool(v, 'extend');
  const extendContextFrames = v.has('extend_context_frames')
    ? v.integer('extend_context_frames')
    : 0;
  if (extend && (extendContextFrames < 1 || extendContextFrames >= frames.min)) {
    throw new ModelConfigError(
      `${v.where}: "extend_context_frames" must be an integer in [1, ${frames.min - 1}] (below the shortest clip) when "extend" is true, got ${extendContextFrames}`,
    );
  }
  const fps = v.positiveNumber('fps');
  if (defaults.has('fps') && defaults.number('fps') !== fps) {
    throw new ModelConfigError(
      `${defaults.where}: "fps" (${defaults.number('fps')}) differs from video.fps (${fps})`,
    );
  }
  return {
    frames,
    defaultFrames,
    fps,
    imageToVideo: bool(v, 'image_to_video'),
    extend,
    extendContextFrames,
  };
}
