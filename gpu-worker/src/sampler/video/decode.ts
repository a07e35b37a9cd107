import { decodeImages } from '../to-result.ts';
import { clipSize, copyFrameOut, type ClipShape } from './clip-layout.ts';
import type { VideoModel } from './model.ts';

/** Frames per vae_decoder run: a batch of long clips would otherwise be one huge activation. */
export const DECODE_FRAMES_PER_RUN = 32;

/**
 * Steps (6)–(7): the latents of `clips` clips, unscaled (latents / scaling_factor + shift_factor)
 * and decoded frame by frame in batched vae_decoder runs, then each frame as uint8 RGB HWC with
 * the image path's rounding; with a decode graph (CUDA) all three in one run a batch. Returns
 * the frames of each clip, in order.
 */
export async function decodeClips(
  model: VideoModel,
  latents: Float32Array,
  clips: number,
  shape: ClipShape,
  width: number,
  height: number,
): Promise<Uint8Array[][]> {
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
      copyFrameOut(latents, clip * clipSize(shape), shape, k % shape.frames, batch, i * perFrame);
    }
    const frames = await decodeImages(model, batch, n, frameShape, width, height);
    for (let i = 0; i < n; i++) {
      const clip = Math.floor((first + i) / shape.frames);
      out[clip]?.push(frames[i] ?? new Uint8Array(0));
    }
  }
  return out;
}
