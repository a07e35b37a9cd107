import { addScaled, FlowMatchSchedulerBase } from './flow-match.ts';
import type { VelocityFn } from './types.ts';

/** First-order solver: x ← x + (σ_{i+1} − σ_i)·v(x, σ_i). One model evaluation per step. */
export class FlowMatchEulerDiscreteScheduler extends FlowMatchSchedulerBase {
  /** The `_class_name` of scheduler_config.json (explicit: bundlers may rename classes). */
  static readonly className = 'FlowMatchEulerDiscreteScheduler';

  modelEvaluations(): number {
    return this.steps;
  }

  async step(x: Float32Array, i: number, velocity: VelocityFn): Promise<Float32Array> {
    const sigma = this.sigma(i);
    const v = await velocity(x, this.timestep(sigma));
    return addScaled(x, this.sigma(i + 1) - sigma, v);
  }
}
