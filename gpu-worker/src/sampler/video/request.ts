import { videoLimitsOf } from '../../model-contract/video-limits.ts';
import { describeFrameRange, isAllowedFrameCount } from '../../model-contract/video-manifest.ts';
import { InvalidRequestError } from '../errors.ts';
import type { GenerateOptions } from '../generate.ts';
import type { ModelConfig } from '../model-config.ts';
import { resolveRequest, type GenerationRequest, type ResolvedRequest } from '../request.ts';
import type { RgbImage } from './fit-frame.ts';

/**
 * One clip to generate: an image's request (its fields and defaults, ../request.ts), a size
 * among the model's, and what only a clip has. Omitted fields take the model's defaults.
 */
export interface VideoClipRequest extends GenerationRequest {
  /** Frames of the clip (for an extension: including the context frames it starts from). */
  readonly frames?: number | undefined;
  /** Image-to-video: frame 0, any size (scaled to cover the clip and centre-cropped). */
  readonly initImage?: RgbImage | undefined;
  /**
   * Extension: the previous clip's frames (uint8 RGB HWC, at this request's size); its last K
   * (video.extend_context_frames) become frames 0..K−1, and the result holds frames K..F−1.
   */
  readonly extendFrom?: readonly Uint8Array[] | undefined;
}

/** A clip request with its own progress and cancellation hooks (generateVideo). */
export interface VideoRequest extends VideoClipRequest, GenerateOptions {}

export type VideoMode = 'text_to_video' | 'image_to_video' | 'extend';

/** A clip request with every field filled in and checked (the given frames apart). */
export interface ResolvedVideoRequest extends ResolvedRequest {
  readonly frames: number;
  readonly mode: VideoMode;
}

/** The frames a clip starts from: an init image at frame 0, or the previous clip's last K. */
export type GivenFrames =
  | { readonly mode: 'image_to_video'; readonly image: RgbImage }
  | { readonly mode: 'extend'; readonly frames: readonly Uint8Array[] };

export interface CheckedClip {
  readonly request: ResolvedVideoRequest;
  readonly given: GivenFrames | null;
}

function fail(where: string, message: string): never {
  throw new InvalidRequestError(`${where}: ${message}`);
}

function checkImage(image: RgbImage, where: string): void {
  const { width, height, data } = image;
  const side = (n: unknown) => Number.isInteger(n) && (n as number) >= 1;
  if (!side(width) || !side(height) || !(data instanceof Uint8Array)) {
    fail(where, 'initImage must be { width, height, data } with positive integer sides');
  }
  if (data.length !== width * height * 3) {
    fail(
      where,
      `initImage data must hold ${width}×${height}×3 RGB bytes (${width * height * 3}), got ${data.length}`,
    );
  }
}

function checkExtendFrom(
  frames: readonly Uint8Array[],
  k: number,
  width: number,
  height: number,
  where: string,
): void {
  if (!Array.isArray(frames) || frames.length < k) {
    fail(where, `extendFrom must hold at least ${k} frames (the context an extension starts from)`);
  }
  const bytes = width * height * 3;
  frames.slice(-k).forEach((frame, i) => {
    if (!(frame instanceof Uint8Array) || frame.length !== bytes) {
      fail(
        where,
        `extendFrom frames must be ${width}x${height} RGB (${bytes} bytes each, the clip's size); frame ${frames.length - k + i} is not`,
      );
    }
  });
}

/**
 * Fills defaults and validates a clip request: the image fields as generate() checks them, then
 * the clip's own: a size the model was trained on, an allowed frame count, and given frames only
 * where the manifest allows them. Errors name the request, the field and what is allowed.
 */
export function resolveVideoRequest(
  request: VideoClipRequest,
  config: ModelConfig,
  where = 'request',
): CheckedClip {
  const video = videoLimitsOf(config.manifest);
  if (!video) fail(where, `model ${config.manifest.name} is not a video model`);
  const base = resolveRequest(request, config, where);
  const { sizes } = video;
  if (!sizes.some(([w, h]) => w === base.width && h === base.height)) {
    fail(
      where,
      `width x height must be one of ${sizes.map(([w, h]) => `${w}x${h}`).join(', ')}, got ${base.width}x${base.height}`,
    );
  }
  const frames = request.frames ?? video.defaultFrames;
  if (!isAllowedFrameCount(video.frames, frames)) {
    fail(where, `frames must be ${describeFrameRange(video.frames)}, got ${frames}`);
  }
  const { initImage, extendFrom } = request;
  if (initImage !== undefined && extendFrom !== undefined) {
    fail(where, 'give initImage or extendFrom, not both (each sets the first frames)');
  }
  let given: GivenFrames | null = null;
  if (initImage !== undefined) {
    if (!video.imageToVideo) fail(where, 'initImage: this model has no image-to-video');
    checkImage(initImage, where);
    given = { mode: 'image_to_video', image: initImage };
  } else if (extendFrom !== undefined) {
    if (!video.extend) fail(where, 'extendFrom: this model cannot extend clips');
    const k = video.extendContextFrames;
    checkExtendFrom(extendFrom, k, base.width, base.height, where);
    given = { mode: 'extend', frames: extendFrom.slice(-k) };
  }
  return { request: { ...base, frames, mode: given?.mode ?? 'text_to_video' }, given };
}

/**
 * Splits clips into groups that can share one batch: the same size, frame count, step count and
 * sampler (prompts, seeds, guidance and given frames may differ). Groups keep the order of
 * first appearance; each entry keeps the index of its clip.
 */
export function groupClips(
  clips: readonly CheckedClip[],
): { clip: CheckedClip; index: number }[][] {
  const groups = new Map<string, { clip: CheckedClip; index: number }[]>();
  clips.forEach((clip, index) => {
    const r = clip.request;
    const key = `${r.width}x${r.height}x${r.frames}/${r.steps}/${r.sampler}`;
    const group = groups.get(key) ?? [];
    group.push({ clip, index });
    groups.set(key, group);
  });
  return [...groups.values()];
}
