import { setImmediate as nextTurn } from 'node:timers/promises';
import { GenerationCanceledError } from '../errors.ts';
import type { OpenStepEngine, SampleExtras, SampleText, StepEngine } from './step-engine.ts';

/**
 * Continuous batching at step boundaries. Every sample carries its own schedule (σ_0 … σ_n),
 * guidance and step index; at each boundary the loop drops canceled samples, admits waiting
 * ones into free slots, picks the smallest bucket that holds them all, and moves every slot one
 * step. So samples with different steps, guidance or arrival times share each run of the step
 * graph, and a sample leaves (or a cancel frees its slot) at the next boundary.
 */

export interface LoopSample {
  /** x_0 of this sample: float32 [C·h·w] (its noise). */
  readonly latents: Float32Array;
  readonly text: SampleText;
  /** Its values of the engine's further inputs (StepShape.extras): a video clip's given frames. */
  readonly extras?: SampleExtras | undefined;
  /** σ_0 … σ_n: n steps. */
  readonly sigmas: ArrayLike<number>;
  readonly guidance: number;
  /** Checked at every step boundary; the sample then rejects with GenerationCanceledError. */
  readonly signal?: AbortSignal | undefined;
  /** After each of its steps: steps done, steps in all. */
  readonly onStep?: ((done: number, total: number) => void) | undefined;
}

interface Running {
  readonly sample: LoopSample;
  readonly resolve: (latents: Float32Array) => void;
  readonly reject: (error: unknown) => void;
  readonly steps: number;
  /** Steps done; σ_i is the current noise level. */
  i: number;
}

export interface StepLoopOptions {
  /** Batch buckets, ascending (each one engine, opened once and kept). */
  readonly buckets: readonly number[];
  readonly openEngine: OpenStepEngine;
}

export interface StepLoopStats {
  /** Step-graph runs so far, and the sample-steps they moved (their ratio: the mean batch). */
  readonly runs: number;
  readonly sampleSteps: number;
  /** Slots run empty (bucket padding). */
  readonly paddedSlots: number;
  /**
   * Host wall time inside steps (on CUDA mostly the wait for the step before; with the reads
   * of finished samples) and inside arranging slots (loads, bucket moves); the rest of the
   * loop's active time is other work of the same thread between two steps.
   */
  readonly stepMs: number;
  readonly arrangeMs: number;
  /** Wall time during which the loop had samples. */
  readonly activeMs: number;
}

export class StepLoop {
  readonly #buckets: readonly number[];
  readonly #open: OpenStepEngine;
  readonly #engines = new Map<number, Promise<StepEngine>>();
  readonly #waiting: Running[] = [];
  /** Slot → sample of the current engine. */
  #slots: (Running | null)[] = [];
  #engine: StepEngine | null = null;
  #loop: Promise<void> | null = null;
  #closed = false;
  #stats = { runs: 0, sampleSteps: 0, paddedSlots: 0, stepMs: 0, arrangeMs: 0, activeMs: 0 };

  constructor({ buckets, openEngine }: StepLoopOptions) {
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b) => !Number.isInteger(b) || b < 1)) {
      throw new RangeError(`buckets must be positive integers, got ${buckets.join(', ')}`);
    }
    this.#buckets = sorted;
    this.#open = openEngine;
  }

  /** The largest bucket: how many samples can run at once. */
  get maxBatch(): number {
    return this.#buckets[this.#buckets.length - 1] ?? 1;
  }

  get stats(): StepLoopStats {
    return { ...this.#stats };
  }

  /** Samples running or waiting. */
  get pending(): number {
    return this.#waiting.length + this.#slots.filter((s) => s !== null).length;
  }

  /** Opens every bucket's engine now (CUDA graphs are captured at their first step). */
  async warm(): Promise<void> {
    await Promise.all(this.#buckets.map((b) => this.#engineOf(b)));
  }

  /** Denoises one sample; resolves to its final latent (x_n). */
  submit(sample: LoopSample): Promise<Float32Array> {
    if (this.#closed) return Promise.reject(new Error('submit() on a closed step loop'));
    const steps = sample.sigmas.length - 1;
    if (!Number.isInteger(steps) || steps < 1) {
      return Promise.reject(new RangeError('a sample needs at least two sigmas (one step)'));
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ sample, resolve, reject, steps, i: 0 });
      // Started after this turn, so that samples submitted together start together.
      this.#loop ??= Promise.resolve()
        .then(() => this.#run())
        .finally(() => {
          this.#loop = null;
        });
    });
  }

  /** Waits for the samples in flight, then releases every engine. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#loop;
    const engines = await Promise.allSettled([...this.#engines.values()]);
    this.#engines.clear();
    await Promise.all(
      engines.flatMap((e) => (e.status === 'fulfilled' ? [e.value.release()] : [])),
    );
  }

  #engineOf(capacity: number): Promise<StepEngine> {
    let engine = this.#engines.get(capacity);
    if (!engine) {
      engine = this.#open(capacity);
      this.#engines.set(capacity, engine);
      // A failed open is not cached: the next boundary tries again.
      engine.catch(() => this.#engines.delete(capacity));
    }
    return engine;
  }

  async #run(): Promise<void> {
    const started = performance.now();
    while (this.pending > 0) {
      try {
        this.#dropCanceled();
        if (this.pending === 0) break;
        const t0 = performance.now();
        await this.#arrange();
        const t1 = performance.now();
        await this.#step();
        this.#stats.arrangeMs += t1 - t0;
        this.#stats.stepMs += performance.now() - t1;
      } catch (error) {
        // The engine failed: every sample in it fails; waiting samples get their own try.
        for (const r of this.#slots) r?.reject(error);
        this.#slots = this.#slots.map(() => null);
      }
      // New samples (messages, timers) get in between two steps, even when a step resolves at once.
      await nextTurn();
    }
    this.#stats.activeMs += performance.now() - started;
  }

  #dropCanceled(): void {
    const canceled = (r: Running): boolean => {
      if (!r.sample.signal?.aborted) return false;
      r.reject(
        new GenerationCanceledError(`generation canceled after ${r.i} of ${r.steps} steps`, {
          cause: r.sample.signal.reason,
        }),
      );
      return true;
    };
    this.#slots = this.#slots.map((r) => (r && canceled(r) ? null : r));
    for (let k = this.#waiting.length - 1; k >= 0; k--) {
      const r = this.#waiting[k];
      if (r && canceled(r)) this.#waiting.splice(k, 1);
    }
  }

  /** Picks the bucket, moves running samples into it if it changed, admits waiting ones. */
  async #arrange(): Promise<void> {
    const running = this.#slots.filter((r): r is Running => r !== null);
    const want = Math.min(this.maxBatch, running.length + this.#waiting.length);
    const fits = (n: number): number => this.#buckets.find((b) => b >= n) ?? this.maxBatch;
    // Grow at once; shrink only into a bucket that still has room for as many again, so that
    // samples coming and going around a bucket's size do not move the batch on every step.
    const current = this.#engine?.capacity ?? 0;
    const capacity = want > current ? fits(want) : Math.min(current, fits(2 * want));
    if (current !== capacity) {
      const next = await this.#engineOf(capacity);
      const slots: (Running | null)[] = new Array<Running | null>(capacity).fill(null);
      // Running samples move over as they are (latents read back; their text loaded again).
      for (const [k, r] of running.entries()) {
        const latents = this.#engine ? await this.#engine.read(this.#slots.indexOf(r)) : null;
        if (latents) await next.load(k, latents, r.sample.text, r.sample.extras);
        slots[k] = r;
      }
      this.#engine = next;
      this.#slots = slots;
    }
    const engine = this.#engine;
    if (!engine) return;
    for (let k = 0; k < this.#slots.length && this.#waiting.length > 0; k++) {
      if (this.#slots[k] !== null) continue;
      const r = this.#waiting.shift();
      if (!r) break;
      try {
        await engine.load(k, r.sample.latents, r.sample.text, r.sample.extras);
        this.#slots[k] = r;
      } catch (error) {
        r.reject(error);
      }
    }
  }

  async #step(): Promise<void> {
    const engine = this.#engine;
    if (!engine) return;
    const b = engine.capacity;
    const sigma = new Float32Array(b);
    const sigmaNext = new Float32Array(b);
    const guidance = new Float32Array(b).fill(1);
    let moved = 0;
    this.#slots.forEach((r, k) => {
      if (!r) return;
      sigma[k] = r.sample.sigmas[r.i] ?? 0;
      sigmaNext[k] = r.sample.sigmas[r.i + 1] ?? 0;
      guidance[k] = r.sample.guidance;
      moved += 1;
    });
    if (moved === 0) return;
    await engine.step({ sigma, sigmaNext, guidance });
    this.#stats.runs += 1;
    this.#stats.sampleSteps += moved;
    this.#stats.paddedSlots += b - moved;
    for (const [k, r] of this.#slots.entries()) {
      if (!r) continue;
      r.i += 1;
      r.sample.onStep?.(r.i, r.steps);
      if (r.i < r.steps) continue;
      this.#slots[k] = null;
      try {
        r.resolve(await engine.read(k));
      } catch (error) {
        r.reject(error);
      }
    }
  }
}
