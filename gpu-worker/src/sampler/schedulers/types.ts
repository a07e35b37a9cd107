/** scheduler/scheduler_config.json, as the sampler uses it (see docs/model-format.md). */
export interface SchedulerConfig {
  /** `_class_name`: the model's default scheduler; every flow-match scheduler reads the same keys. */
  readonly className: string;
  readonly numTrainTimesteps: number;
  readonly shift: number;
}

/**
 * One model evaluation: the velocity at `x` for the given model timestep (σ × num_train_timesteps).
 * It must not modify `x` and must return a fresh array of the same length.
 */
export type VelocityFn = (x: Float32Array, timestep: number) => Promise<Float32Array>;

/**
 * A flow-matching ODE solver. It holds only its σ schedule (no per-run state), so one object may
 * serve many runs with the same step count; the caller owns the latents.
 */
export interface FlowMatchScheduler {
  readonly sigmas: Float64Array;
  readonly timesteps: Float64Array;
  /** Number of steps of the current schedule (sigmas.length − 1). */
  readonly steps: number;
  setTimesteps(steps: number): void;
  /** Model evaluations that a full run of the current schedule makes. */
  modelEvaluations(): number;
  /** Advances x from σ_i to σ_{i+1} in place and returns it. */
  step(x: Float32Array, i: number, velocity: VelocityFn): Promise<Float32Array>;
}
