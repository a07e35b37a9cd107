import type { FlowMatchScheduler, SchedulerConfig, VelocityFn } from './types.ts';

/**
 * The shifted rectified-flow schedule shared by every flow-match solver:
 * t_i = 1 − i/n, σ_i = shift·t_i / (1 + (shift − 1)·t_i), so σ_0 = 1 and σ_n = 0. A shift > 1
 * spends more steps at high noise, where the layout of the image is decided.
 */
export function shiftedSigmas(steps: number, shift: number): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  }
  const sigmas = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const t = 1 - i / steps;
    sigmas[i] = (shift * t) / (1 + (shift - 1) * t);
  }
  return sigmas;
}

/** x ← x + dt·v, element-wise in float64, stored back as float32. */
export function addScaled(x: Float32Array, dt: number, v: Float32Array): Float32Array {
  for (let k = 0; k < x.length; k++) x[k] = (x[k] ?? 0) + dt * (v[k] ?? 0);
  return x;
}

/** Schedule bookkeeping common to Euler and Heun; subclasses only define one step. */
export abstract class FlowMatchSchedulerBase implements FlowMatchScheduler {
  sigmas: Float64Array = new Float64Array([1, 0]);
  timesteps: Float64Array = new Float64Array(0);

  constructor(readonly config: SchedulerConfig) {
    this.setTimesteps(1);
  }

  get steps(): number {
    return this.sigmas.length - 1;
  }

  setTimesteps(steps: number): void {
    this.sigmas = shiftedSigmas(steps, this.config.shift);
    this.timesteps = this.sigmas.slice(0, steps).map((s) => s * this.config.numTrainTimesteps);
  }

  protected sigma(i: number): number {
    const sigma = this.sigmas[i];
    if (sigma === undefined) throw new RangeError(`step index ${i} is outside 0..${this.steps}`);
    return sigma;
  }

  protected timestep(sigma: number): number {
    return sigma * this.config.numTrainTimesteps;
  }

  abstract modelEvaluations(): number;
  abstract step(x: Float32Array, i: number, velocity: VelocityFn): Promise<Float32Array>;
}
