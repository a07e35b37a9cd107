import type { Runner } from '../../runner/runner.ts';
import { output, runTransformer, type TransformerTextInputs } from '../components.ts';
import type { ClipShape } from './clip-layout.ts';

/**
 * Typed calls into the two graphs a video model adds or changes, by the names and shapes of the
 * video contract (the text encoder, the per-frame decoder and the transformer's image inputs
 * are the image ones, ../components.ts). This is the only file that knows these names.
 */

export interface VideoTransformerInputs extends TransformerTextInputs {
  /** float32 [B, C, F, h, w] */
  readonly latents: Float32Array;
  /** float32 [B, C, F, h, w]: clean latents of the given frames, zeros elsewhere */
  readonly condLatents: Float32Array;
  /** float32 [B, F]: 1 for a given frame */
  readonly condMask: Float32Array;
  readonly clip: ClipShape;
}

/** transformer: the velocity `sample` [B, C, F, h, w] of a batch of noisy clips. */
export function predictClipVelocity(
  session: Runner,
  x: VideoTransformerInputs,
): Promise<Float32Array> {
  const b = x.batch;
  const dims = [b, x.clip.channels, x.clip.frames, x.clip.height, x.clip.width];
  return runTransformer(session, x, dims, {
    cond_latents: { type: 'float32', data: x.condLatents, dims },
    cond_mask: { type: 'float32', data: x.condMask, dims: [b, x.clip.frames] },
  });
}

/**
 * The step graph's inputs beyond the image one's (its transformer's given frames), one sample's
 * dims each for a clip latent [C, F, h, w]; and a clip's values of them, by the same names.
 */
export function clipStepExtras(latent: readonly number[]): Record<string, readonly number[]> {
  return { cond_latents: latent, cond_mask: [latent[1] ?? 1] };
}

export function clipStepValues(condLatents: Float32Array, condMask: Float32Array) {
  return { cond_latents: condLatents, cond_mask: condMask };
}

/**
 * vae_encoder: RGB frames `sample` [N, 3, H, W] in [−1, 1] → `latent_sample` [N, C, h, w], the
 * latent mean already in the transformer's (scaled) space: the clean latents of given frames.
 */
export async function encodeFrames(
  session: Runner,
  pixels: Float32Array,
  count: number,
  height: number,
  width: number,
): Promise<Float32Array> {
  const result = await session.run({
    sample: { type: 'float32', data: pixels, dims: [count, 3, height, width] },
  });
  return output(result, 'latent_sample');
}
