import { clipSize, copyFrameIn, type ClipShape } from './clip-layout.ts';
import { encodeFrames } from './components.ts';
import { fitFrame, frameToChw } from './fit-frame.ts';
import type { VideoModel } from './model.ts';
import type { GivenFrames } from './request.ts';

/** The transformer's conditioning inputs for a batch of clips. */
export interface Conditioning {
  /** float32 [B, C, F, h, w]: clean latents of the given frames, zeros elsewhere */
  readonly latents: Float32Array;
  /** float32 [B, F]: 1 where a frame is given */
  readonly mask: Float32Array;
  /** Whether any clip of the batch has a given frame. */
  readonly any: boolean;
}

/**
 * Step (4): every given frame of the batch (an init image fitted to the clip at frame 0; the
 * previous clip's last K frames at 0..K−1) goes through one vae_encoder run and lands, clean, in
 * cond_latents with cond_mask 1. A clip without given frames keeps zeros and mask 0.
 */
export async function prepareConditioning(
  model: VideoModel,
  given: readonly (GivenFrames | null)[],
  shape: ClipShape,
  width: number,
  height: number,
): Promise<Conditioning> {
  const b = given.length;
  const latents = new Float32Array(b * clipSize(shape));
  const mask = new Float32Array(b * shape.frames);
  const placed: { clip: number; frame: number; pixels: Float32Array }[] = [];
  given.forEach((g, clip) => {
    if (g?.mode === 'image_to_video') {
      placed.push({ clip, frame: 0, pixels: fitFrame(g.image, width, height) });
    } else if (g?.mode === 'extend') {
      g.frames.forEach((f, frame) => {
        placed.push({ clip, frame, pixels: frameToChw(f, width, height) });
      });
    }
  });
  if (placed.length === 0) return { latents, mask, any: false };
  if (!model.vaeEncoder) {
    // resolveVideoRequest refuses given frames where the manifest allows none; this guards it.
    throw new Error(`${model.config.dir}: given frames need the vae_encoder component`);
  }
  const plane = 3 * width * height;
  const pixels = new Float32Array(placed.length * plane);
  placed.forEach((p, i) => {
    pixels.set(p.pixels, i * plane);
  });
  const encoded = await encodeFrames(model.vaeEncoder, pixels, placed.length, height, width);
  const perFrame = shape.channels * shape.height * shape.width;
  if (encoded.length !== placed.length * perFrame) {
    throw new Error(
      `vae_encoder returned ${encoded.length} values, expected ${placed.length}×${shape.channels}×${shape.height}×${shape.width}`,
    );
  }
  placed.forEach((p, i) => {
    copyFrameIn(encoded, i * perFrame, shape, p.frame, latents, p.clip * clipSize(shape));
    mask[p.clip * shape.frames + p.frame] = 1;
  });
  return { latents, mask, any: true };
}

/**
 * After the last step, the given frames are set to their clean latents exactly. The model's
 * velocity already takes them there (its given-frame velocity is the exact one towards them);
 * this only removes the rounding of the steps. Between steps they stay on their noising path,
 * which is what the model sees in training.
 */
export function imposeGivenFrames(x: Float32Array, cond: Conditioning, shape: ClipShape): void {
  if (!cond.any) return;
  const hw = shape.height * shape.width;
  const per = clipSize(shape);
  for (let s = 0; s * per < x.length; s++) {
    for (let t = 0; t < shape.frames; t++) {
      if (cond.mask[s * shape.frames + t] !== 1) continue;
      for (let c = 0; c < shape.channels; c++) {
        const at = s * per + (c * shape.frames + t) * hw;
        x.set(cond.latents.subarray(at, at + hw), at);
      }
    }
  }
}
