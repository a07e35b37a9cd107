import { decodeLatents, decodeToPixels } from '../components.ts';
import { toRgb8, unscaleLatents } from '../pixels.ts';
import { clipSize, copyFrameOut, type ClipShape } from './clip-layout.ts';
import type { VideoModel } from './model.ts';

/** Frames per vae_decoder run: a batch of long clips would otherwise be one huge activation. */
export const DECODE_FRAMES_PER_RUN = 32;

/**
 * Steps (6)–(7): the latents of `clips` clips, unscaled (latents / scaling_factor + shift_factor)
 * and decoded frame by frame in batched vae_decoder runs, then each frame as uint8 RGB HWC with
 * the image path's rounding; on CUDA all three in one run of the decode graph a batch. Returns the frames of each clip, in order.
 */
export async function decodeClips(
  model: VideoModel,
  latents: Float32Array,
  clips: number,
  shape: ClipShape,
  width: number,
  height: number,
): Promise<Uint8Array[][]> {
  // The decode graph takes the latents as they are (it un-scales them itself).
  const vae = model.pixelDecoder ? null : model.config.vaeDecoder;
  const z = vae ? unscaleLatents(latents, vae.scalingFactor, vae.shiftFactor) : latents;
  const frameShape = [shape.channels, shape.height, shape.width] as const;
  const perFrame = shape.channels * shape.height * shape.width;
  const all = clips * shape.frames;
  const out: Uint8Array[][] = Array.from({ length: clips }, () => []);
  for (let first = 0; first < all; first += DECODE_FRAMES_PER_RUN) {
    const n = Math.min(DECODE_FRAMES_PER_RUN, all - first);
    const batch = new Float32Array(n * perFrame);
    for (let i = 0; i < n; i++) {
      const k = first + i;
      const clip = Math.floor(k / shape.frames);
      copyFrameOut(z, clip * clipSize(shape), shape, k % shape.frames, batch, i * perFrame);
    }
    const frames = await decodeFrames(model, batch, n, frameShape, width, height);
    for (let i = 0; i < n; i++) {
      const clip = Math.floor((first + i) / shape.frames);
      out[clip]?.push(frames(i));
    }
  }
  return out;
}

/** One decoder run of `n` frames; frame i as uint8 RGB HWC. */
async function decodeFrames(
  model: VideoModel,
  batch: Float32Array,
  n: number,
  frameShape: readonly [number, number, number],
  width: number,
  height: number,
): Promise<(i: number) => Uint8Array> {
  const plane = 3 * width * height;
  const check = (length: number): void => {
    if (length !== n * plane) {
      throw new Error(`decoder returned ${length} values, expected ${n}×3×${height}×${width}`);
    }
  };
  if (model.pixelDecoder) {
    const pixels = await decodeToPixels(model.pixelDecoder, batch, n, frameShape);
    check(pixels.length);
    return (i) => pixels.subarray(i * plane, (i + 1) * plane);
  }
  const rgb = await decodeLatents(model.vaeDecoder, batch, n, frameShape);
  check(rgb.length);
  return (i) => toRgb8(rgb.subarray(i * plane, (i + 1) * plane), width, height);
}
