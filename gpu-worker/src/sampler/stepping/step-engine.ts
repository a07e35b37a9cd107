/**
 * The port through which the step loop moves a batch of samples one denoising step: the step
 * graph (transformer + classifier-free guidance + Euler update, one graph; docs/gpu-engine.md)
 * run over `capacity` slots that each hold one sample or nothing. Two adapters:
 * `host-step-engine.ts` (any Runner; the latents live in JS arrays, so on the CPU or through
 * the stock binding) and `cuda-graph-step-engine.ts` (device buffers bound once, the step
 * replayed as a CUDA graph; the latents stay on the GPU from load() until read()).
 */

/** The text a sample is conditioned on: its prompt and its unconditional text, encoded. */
export interface SampleText {
  /** float32 [L, D] each */
  readonly condHidden: Float32Array;
  readonly uncondHidden: Float32Array;
  /** float32 [D] each */
  readonly condPooled: Float32Array;
  readonly uncondPooled: Float32Array;
}

/** One step's per-slot values, each float32 [capacity]; an empty slot has sigmaNext = sigma. */
export interface StepParams {
  readonly sigma: Float32Array;
  readonly sigmaNext: Float32Array;
  readonly guidance: Float32Array;
}

/** The geometry every slot of an engine shares. */
export interface StepShape {
  /** One sample's latent: [C, h, w] (an image) or [C, F, h, w] (a video clip). */
  readonly latent: readonly number[];
  readonly textLength: number;
  readonly textWidth: number;
  /**
   * The step graph's further per-sample inputs and one sample's dims of each, e.g. a video
   * model's given frames: { cond_latents: [C, F, h, w], cond_mask: [F] }. None for images.
   */
  readonly extras?: Readonly<Record<string, readonly number[]>>;
}

/**
 * Row `s` of a text-encoder run over [cond_0 … cond_{b−1}, uncond_0 … uncond_{b−1}]: hidden
 * [2b, L, D] and pooled [2b, D], as views.
 */
export function sampleTextOf(
  text: { readonly hidden: Float32Array; readonly pooled: Float32Array },
  s: number,
  b: number,
  textLength: number,
  textWidth: number,
): SampleText {
  const l = textLength;
  const d = textWidth;
  return {
    condHidden: text.hidden.subarray(s * l * d, (s + 1) * l * d),
    uncondHidden: text.hidden.subarray((b + s) * l * d, (b + s + 1) * l * d),
    condPooled: text.pooled.subarray(s * d, (s + 1) * d),
    uncondPooled: text.pooled.subarray((b + s) * d, (b + s + 1) * d),
  };
}

/** A sample's values of the further inputs (StepShape.extras), by name. */
export type SampleExtras = Readonly<Record<string, Float32Array>>;

export interface StepEngine {
  /** How many samples one step moves (the batch bucket). */
  readonly capacity: number;
  readonly shape: StepShape;
  /** Puts a sample (its latent x_i, its text and its further inputs, if any) into `slot`. */
  load(slot: number, latents: Float32Array, text: SampleText, extras?: SampleExtras): Promise<void>;
  /** Moves every slot one step: x ← step(x, params). */
  step(params: StepParams): Promise<void>;
  /** The current latent of `slot` (a copy). */
  read(slot: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Opens an engine of the given capacity (one per batch bucket). */
export type OpenStepEngine = (capacity: number) => Promise<StepEngine>;

export function perSample(shape: StepShape): number {
  return count(shape.latent);
}

export function count(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/**
 * The further inputs of `shape` with one sample's size each; `extras` must hold each of them
 * with exactly that many values (a sample without one is refused, not zero-filled).
 */
export function checkedExtras(
  shape: StepShape,
  extras: SampleExtras | undefined,
): { name: string; per: number; data: Float32Array }[] {
  return Object.entries(shape.extras ?? {}).map(([name, dims]) => {
    const per = count(dims);
    const data = extras?.[name];
    if (data?.length !== per) {
      throw new RangeError(
        `input ${name}: expected ${per} values for one sample, got ${data?.length ?? 'none'}`,
      );
    }
    return { name, per, data };
  });
}
