/**
 * The frames of one clip as the encoders take them: uint8 RGB, row-major HWC, width × height × 3
 * bytes each (the layout of RawImage in sampler/encode.ts, what toRgb8 returns per frame), in
 * playback order.
 */
export type Frames = readonly Uint8Array[];

/** What every encoder of a clip needs besides its frames. */
export interface ClipFormat {
  readonly width: number;
  readonly height: number;
  /** Playback rate, frames per second. */
  readonly fps: number;
}

/** Throws a RangeError naming what is wrong with the frames or their format. */
export function checkFrames(frames: Frames, { width, height, fps }: ClipFormat): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`clip size must be positive integers, got ${width}×${height}`);
  }
  // Above 1000 fps a WebP frame delay (whole milliseconds) would be 0.
  if (!Number.isFinite(fps) || fps <= 0 || fps > 1000) {
    throw new RangeError(`fps must be in (0, 1000], got ${fps}`);
  }
  if (frames.length === 0) throw new RangeError('a clip needs at least one frame');
  const bytes = width * height * 3;
  frames.forEach((frame, i) => {
    if (frame.length !== bytes) {
      throw new RangeError(
        `frame ${i}: expected ${width}×${height}×3 = ${bytes} bytes of RGB, got ${frame.length}`,
      );
    }
  });
}

/** The frames one below the other: one image of height × frames rows (sharp's animated layout). */
export function stackFrames(frames: Frames): Buffer {
  return Buffer.concat(frames);
}
