import type { ModelManifest } from '../sampler/model-config.ts';
import type { FrameRange } from './video-manifest.ts';

/** What a video model accepts, from its manifest: for the worker, the API and the CLI. */
export interface VideoLimits {
  readonly frames: FrameRange;
  readonly defaultFrames: number;
  /** The playback rate the model was trained at (requests may ask for this one only). */
  readonly fps: number;
  readonly imageToVideo: boolean;
  readonly extend: boolean;
  /** K: the previous clip's frames an extension starts from; its result has frames − K. */
  readonly extendContextFrames: number;
  /** [width, height] pairs a clip may have (the default size when the manifest lists none). */
  readonly sizes: readonly (readonly [number, number])[];
}

/** The limits of a video model's manifest; null for an image model. */
export function videoLimitsOf(manifest: ModelManifest): VideoLimits | null {
  if (!manifest.video) return null;
  const { width, height } = manifest.defaults;
  const sizes = manifest.sizes.length > 0 ? manifest.sizes : [[width, height] as const];
  return { ...manifest.video, sizes };
}
