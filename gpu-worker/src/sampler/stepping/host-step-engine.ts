import type { Runner } from '../../runner/runner.ts';
import {
  checkedExtras,
  count,
  perSample,
  type SampleExtras,
  type SampleText,
  type StepEngine,
  type StepParams,
  type StepShape,
} from './step-engine.ts';

/**
 * The StepEngine over any Runner of the step graph, with the slots' latents and text in JS
 * arrays: every step copies them in and the new latents out (what the CPU does anyway).
 */
export class HostStepEngine implements StepEngine {
  readonly #latents: Float32Array;
  readonly #hidden: Float32Array;
  readonly #pooled: Float32Array;
  /** The further inputs' slots, [capacity, …dims] each, by name. */
  readonly #extras: Map<string, { readonly dims: readonly number[]; readonly data: Float32Array }>;
  readonly #per: number;

  constructor(
    readonly capacity: number,
    readonly shape: StepShape,
    private readonly runner: Runner,
  ) {
    this.#per = perSample(shape);
    this.#latents = new Float32Array(capacity * this.#per);
    this.#hidden = new Float32Array(2 * capacity * shape.textLength * shape.textWidth);
    this.#pooled = new Float32Array(2 * capacity * shape.textWidth);
    this.#extras = new Map(
      Object.entries(shape.extras ?? {}).map(([name, dims]) => [
        name,
        { dims, data: new Float32Array(capacity * count(dims)) },
      ]),
    );
  }

  load(
    slot: number,
    latents: Float32Array,
    text: SampleText,
    extras?: SampleExtras,
  ): Promise<void> {
    checkSlot(slot, this.capacity);
    for (const { name, per, data } of checkedExtras(this.shape, extras)) {
      this.#extras.get(name)?.data.set(data, slot * per);
    }
    const { textLength: l, textWidth: d } = this.shape;
    this.#latents.set(latents, slot * this.#per);
    // [2, capacity, …]: the cond half, then the uncond half.
    this.#hidden.set(text.condHidden, slot * l * d);
    this.#hidden.set(text.uncondHidden, (this.capacity + slot) * l * d);
    this.#pooled.set(text.condPooled, slot * d);
    this.#pooled.set(text.uncondPooled, (this.capacity + slot) * d);
    return Promise.resolve();
  }

  async step(params: StepParams): Promise<void> {
    const b = this.capacity;
    const { latent, textLength: l, textWidth: d } = this.shape;
    const result = await this.runner.run({
      latents: { type: 'float32', data: this.#latents, dims: [b, ...latent] },
      sigma: { type: 'float32', data: params.sigma, dims: [b] },
      sigma_next: { type: 'float32', data: params.sigmaNext, dims: [b] },
      guidance_scale: { type: 'float32', data: params.guidance, dims: [b] },
      encoder_hidden_states: { type: 'float32', data: this.#hidden, dims: [2, b, l, d] },
      pooled_projections: { type: 'float32', data: this.#pooled, dims: [2, b, d] },
      ...Object.fromEntries(
        [...this.#extras].map(([name, { dims, data }]) => [
          name,
          { type: 'float32', data, dims: [b, ...dims] },
        ]),
      ),
    });
    const next = result.latents_next;
    if (next?.type !== 'float32' || next.data.length !== this.#latents.length) {
      throw new Error(
        `the step graph did not return float32 latents_next of ${this.#latents.length} values`,
      );
    }
    this.#latents.set(next.data);
  }

  read(slot: number): Promise<Float32Array> {
    checkSlot(slot, this.capacity);
    return Promise.resolve(this.#latents.slice(slot * this.#per, (slot + 1) * this.#per));
  }

  /** The runner is the stepping's (one for every bucket): it releases it. */
  release(): Promise<void> {
    return Promise.resolve();
  }
}

export function checkSlot(slot: number, capacity: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= capacity) {
    throw new RangeError(`slot ${slot} is outside 0..${capacity - 1}`);
  }
}
