import { encodePng } from '../sampler/png.ts';
import { checkFrames } from './frames.ts';
import { pngText, type ClipMetadata } from './metadata.ts';

export interface ThumbnailOptions {
  readonly width: number;
  readonly height: number;
  /** Text chunks: a map as images get them, a JSON string under `parameters`. */
  readonly metadata?: ClipMetadata;
}

/**
 * A clip's thumbnail: the frame given (frame 0) as a PNG, through the image encoder
 * (deterministic, no native library).
 */
export async function thumbnailPng(frame: Uint8Array, opts: ThumbnailOptions): Promise<Buffer> {
  // fps plays no part in a still; 1 only satisfies the check.
  checkFrames([frame], { ...opts, fps: 1 });
  const { width, height, metadata } = opts;
  return encodePng(frame, width, height, metadata === undefined ? {} : pngText(metadata));
}
