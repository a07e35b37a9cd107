import type { Runner, RunnerTensor, TensorMap } from '../runner/runner.ts';

/**
 * Typed calls into the three ONNX graphs, by the input/output names and shapes of the model
 * contract (docs/model-format.md). This is the only file that knows those names, but for the
 * inputs a video transformer adds and the video encoder (video/components.ts).
 */

/** The float32 output `name` of a graph's run, or an error naming it. */
export function output(result: Readonly<Record<string, RunnerTensor>>, name: string): Float32Array {
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

/** What every transformer takes, image or clip: noisy latents, their timesteps and the text. */
export interface TransformerTextInputs {
  /** float32 [B, …] of the shape the caller passes as `dims` */
  readonly latents: Float32Array;
  /** float32 [B]: σ × num_train_timesteps per sample */
  readonly timestep: Float32Array;
  readonly text: TextEmbeddings;
  readonly batch: number;
  readonly textLength: number;
  readonly textWidth: number;
}

/**
 * transformer: the velocity `sample` (the latents' shape, `dims`) for the latents, timesteps and
 * text, with the inputs a video transformer adds in `extra`. Shared by the image and the clip
 * transformer, which differ only in the latents' rank and those inputs.
 */
export async function runTransformer(
  session: Runner,
  x: TransformerTextInputs,
  dims: readonly number[],
  extra: TensorMap = {},
): Promise<Float32Array> {
  const b = x.batch;
  const result = await session.run({
    hidden_states: { type: 'float32', data: x.latents, dims },
    timestep: { type: 'float32', data: x.timestep, dims: [b] },
    encoder_hidden_states: {
      type: 'float32',
      data: x.text.hidden,
      dims: [b, x.textLength, x.textWidth],
    },
    pooled_projections: { type: 'float32', data: x.text.pooled, dims: [b, x.textWidth] },
    ...extra,
  });
  const v = output(result, 'sample');
  if (v.length !== x.latents.length) {
    // The solver adds v to the latents element-wise: a shape mismatch must not pass silently.
    throw new Error(`transformer returned ${v.length} values for ${x.latents.length} latents`);
  }
  return v;
}

export interface TransformerInputs extends TransformerTextInputs {
  /** float32 [B, C, h, w] */
  readonly latents: Float32Array;
  /** [C, h, w] of one sample */
  readonly latentShape: readonly [number, number, number];
}

/** transformer: the velocity `sample` [B, C, h, w] for the given latents, timesteps and text. */
export function predictVelocity(session: Runner, x: TransformerInputs): Promise<Float32Array> {
  return runTransformer(session, x, [x.batch, ...x.latentShape]);
}

/** vae_decoder: latent_sample [B, C, h, w] (already unscaled) → RGB `sample` [B, 3, H, W]. */
export async function decodeLatents(
  session: Runner,
  latents: Float32Array,
  batch: number,
  latentShape: readonly [number, number, number],
): Promise<Float32Array> {
  return output(
    await runOnLatents(session, 'latent_sample', latents, batch, latentShape),
    'sample',
  );
}

/** A run of a graph whose one input `name` is latents [B, C, h, w]. */
function runOnLatents(
  session: Runner,
  name: string,
  latents: Float32Array,
  batch: number,
  latentShape: readonly [number, number, number],
): Promise<Record<string, RunnerTensor>> {
  return session.run({ [name]: { type: 'float32', data: latents, dims: [batch, ...latentShape] } });
}

/**
 * The decode graph (vae_decoder/decode*.onnx): latents [B, C, h, w] as the denoising loop leaves
 * them (scaled) → uint8 RGB `pixels` [B, H, W, 3].
 */
export async function decodeToPixels(
  session: Runner,
  latents: Float32Array,
  batch: number,
  latentShape: readonly [number, number, number],
): Promise<Uint8Array> {
  const { pixels } = await runOnLatents(session, 'latents', latents, batch, latentShape);
  if (pixels?.type !== 'uint8') throw new Error('the ONNX graph did not return a uint8 "pixels"');
  return pixels.data;
}
