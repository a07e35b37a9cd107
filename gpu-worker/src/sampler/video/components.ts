import type { Runner, RunnerTensor } from '../../runner/runner.ts';
import type { TextEmbeddings } from '../components.ts';
import type { ClipShape } from './clip-layout.ts';

/**
 * Typed calls into the two graphs a video model adds or changes, by the names and shapes of the
 * video contract (the text encoder and the per-frame decoder are the image ones,
 * ../components.ts). This is the only file that knows these names.
 */

function output(result: Readonly<Record<string, RunnerTensor>>, name: string): Float32Array {
  const tensor = result[name];
  if (tensor?.type !== 'float32') {
    throw new Error(`the ONNX graph did not return a float32 "${name}"`);
  }
  return tensor.data;
}

export interface VideoTransformerInputs {
  /** float32 [B, C, F, h, w] */
  readonly latents: Float32Array;
  /** float32 [B]: σ × num_train_timesteps per sample */
  readonly timestep: Float32Array;
  readonly text: TextEmbeddings;
  /** float32 [B, C, F, h, w]: clean latents of the given frames, zeros elsewhere */
  readonly condLatents: Float32Array;
  /** float32 [B, F]: 1 for a given frame */
  readonly condMask: Float32Array;
  readonly batch: number;
  readonly clip: ClipShape;
  readonly textLength: number;
  readonly textWidth: number;
}

/** transformer: the velocity `sample` [B, C, F, h, w] of a batch of noisy clips. */
export async function predictClipVelocity(
  session: Runner,
  x: VideoTransformerInputs,
): Promise<Float32Array> {
  const b = x.batch;
  const dims = [b, x.clip.channels, x.clip.frames, x.clip.height, x.clip.width];
  const result = await session.run({
    hidden_states: { type: 'float32', data: x.latents, dims },
    timestep: { type: 'float32', data: x.timestep, dims: [b] },
    encoder_hidden_states: {
      type: 'float32',
      data: x.text.hidden,
      dims: [b, x.textLength, x.textWidth],
    },
    pooled_projections: { type: 'float32', data: x.text.pooled, dims: [b, x.textWidth] },
    cond_latents: { type: 'float32', data: x.condLatents, dims },
    cond_mask: { type: 'float32', data: x.condMask, dims: [b, x.clip.frames] },
  });
  const v = output(result, 'sample');
  if (v.length !== x.latents.length) {
    // The solver adds v to the latents element-wise: a shape mismatch must not pass silently.
    throw new Error(`transformer returned ${v.length} values for ${x.latents.length} latents`);
  }
  return v;
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
