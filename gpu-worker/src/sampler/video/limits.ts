import { videoLimitsOf, type VideoLimits } from '../../model-contract/video-limits.ts';
import type { VideoModel } from './model.ts';

export type { VideoLimits };

/** The frames range, fps, flags and sizes of a loaded video model's manifest. */
export function videoLimits(model: VideoModel): VideoLimits {
  const limits = videoLimitsOf(model.config.manifest);
  // loadVideoModel refuses a manifest without "video"; this only guards the types.
  if (!limits) throw new Error(`${model.config.dir} is not a video model`);
  return limits;
}
