import { addScaled, FlowMatchSchedulerBase } from './flow-match.ts';
import type { VelocityFn } from './types.ts';

/**
 * Second-order solver (Heun's method, the trapezoid rule on the flow ODE):
 * d = v(x, σ_i); x̃ = x + Δ·d; x ← x + Δ·(d + v(x̃, σ_{i+1}))/2 with Δ = σ_{i+1} − σ_i.
 * The last step (σ_{i+1} = 0) stays Euler: the model is never asked for a velocity at σ = 0,
 * which it was not trained on. Hence 2n − 1 model evaluations.
 */
export class FlowMatchHeunDiscreteScheduler extends FlowMatchSchedulerBase {
  /** The `_class_name` of scheduler_config.json (explicit: bundlers may rename classes). */
  static readonly className = 'FlowMatchHeunDiscreteScheduler';

  modelEvaluations(): number {
    return 2 * this.steps - 1;
  }

  async step(x: Float32Array, i: number, velocity: VelocityFn): Promise<Float32Array> {
    const sigma = this.sigma(i);
    const sigmaNext = this.sigma(i + 1);
    const dt = sigmaNext - sigma;
    const d = await velocity(x, this.timestep(sigma));
    const predicted = addScaled(x.slice(), dt, d);
    if (sigmaNext === 0) {
      x.set(predicted);
      return x;
    }
    const dNext = await velocity(predicted, this.timestep(sigmaNext));
    for (let k = 0; k < x.length; k++) {
      x[k] = (x[k] ?? 0) + (dt * ((d[k] ?? 0) + (dNext[k] ?? 0))) / 2;
    }
    return x;
  }
}
