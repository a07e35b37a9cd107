/** The video sampler's public API: load a video model folder, generate clips from it. */
export { loadVideoModel, type VideoLoadOptions, type VideoModel } from './model.ts';
export { generateVideo, generateVideos, type VideoResult } from './generate.ts';
export {
  resolveVideoRequest,
  type ResolvedVideoRequest,
  type VideoClipRequest,
  type VideoMode,
  type VideoRequest,
} from './request.ts';
export { videoLimits, type VideoLimits } from './limits.ts';
export { decodeInitImage } from './init-image.ts';
export { fitFrame, type RgbImage } from './fit-frame.ts';
export { DECODE_FRAMES_PER_RUN } from './decode.ts';
