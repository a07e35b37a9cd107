import type { Runner, RunnerTensor } from '../runner/runner.ts';

/**
 * Typed calls into the three ONNX graphs, by the input/output names and shapes of the model
 * contract (docs/model-format.md). This is the only file that knows those names.
 */

function output(result: Readonly<Record<string, RunnerTensor>>, name: string): Float32Array {
  const tensor = result[name];
  if (tensor?.type !== 'float32') {
    throw new Error(`the ONNX graph did not return a float32 "${name}"`);
  }
  return tensor.data;
}

export interface TextEmbeddings {
  /** float32 [B, L, D] */
  readonly hidden: Float32Array;
  /** float32 [B, D] */
  readonly pooled: Float32Array;
}

/** text_encoder: input_ids int64 [B, L] → last_hidden_state [B, L, D], pooled_output [B, D]. */
export async function encodeText(
  session: Runner,
  inputIds: BigInt64Array,
  batch: number,
  length: number,
): Promise<TextEmbeddings> {
  const result = await session.run({
    input_ids: { type: 'int64', data: inputIds, dims: [batch, length] },
  });
  return { hidden: output(result, 'last_hidden_state'), pooled: output(result, 'pooled_output') };
}

export interface TransformerInputs {
  /** float32 [B, C, h, w] */
  readonly latents: Float32Array;
  /** float32 [B]: σ × num_train_timesteps per sample */
  readonly timestep: Float32Array;
  readonly text: TextEmbeddings;
  readonly batch: number;
  /** [C, h, w] of one sample */
  readonly latentShape: readonly [number, number, number];
  readonly textLength: number;
  readonly textWidth: number;
}

/** transformer: the velocity `sample` [B, C, h, w] for the given latents, timesteps and text. */
export async function predictVelocity(
  session: Runner,
  x: TransformerInputs,
): Promise<Float32Array> {
  const b = x.batch;
  const result = await session.run({
    hidden_states: { type: 'float32', data: x.latents, dims: [b, ...x.latentShape] },
    timestep: { type: 'float32', data: x.timestep, dims: [b] },
    encoder_hidden_states: {
      type: 'float32',
      data: x.text.hidden,
      dims: [b, x.textLength, x.textWidth],
    },
    pooled_projections: { type: 'float32', data: x.text.pooled, dims: [b, x.textWidth] },
  });
  const v = output(result, 'sample');
  if (v.length !== x.latents.length) {
    // The solver adds v to the latents element-wise: a shape mismatch must not pass silently.
    throw new Error(`transformer returned ${v.length} values for ${x.latents.length} latents`);
  }
  return v;
}

/** vae_decoder: latent_sample [B, C, h, w] (already unscaled) → RGB `sample` [B, 3, H, W]. */
export async function decodeLatents(
  session: Runner,
  latents: Float32Array,
  batch: number,
  latentShape: readonly [number, number, number],
): Promise<Float32Array> {
  const result = await session.run({
    latent_sample: { type: 'float32', data: latents, dims: [batch, ...latentShape] },
  });
  return output(result, 'sample');
}
