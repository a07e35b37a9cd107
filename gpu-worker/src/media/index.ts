/** Video files from generated frames: MP4 (H.264 via ffmpeg), animated WebP, a PNG thumbnail. */
export { encodeClipOutputs, type ClipOutputOptions, type ClipOutputs } from './clip-outputs.ts';
export { VideoEncodeError } from './errors.ts';
export { checkFrames, type ClipFormat, type Frames } from './frames.ts';
export { h264Encoder, type H264Encoder } from './h264-encoder.ts';
export { clipMetadata, parametersJson, type ClipMetadata } from './metadata.ts';
export { encodeMp4, MP4_MIME_TYPE, type Mp4Options } from './mp4.ts';
export { thumbnailPng, type ThumbnailOptions } from './thumbnail.ts';
export { encodeAnimatedWebp, frameDelays, type AnimatedWebpOptions } from './webp.ts';
