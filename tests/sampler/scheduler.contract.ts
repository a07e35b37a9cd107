import { expect, it } from 'vitest';
import {
  createScheduler,
  samplerForClassName,
} from '../../gpu-worker/src/sampler/schedulers/registry.ts';
import type {
  FlowMatchScheduler,
  SchedulerConfig,
  VelocityFn,
} from '../../gpu-worker/src/sampler/schedulers/types.ts';
import { sigmasOf } from '../helpers/closed-form.ts';

const STEP_COUNTS = [1, 2, 5, 28];

/** A velocity field that records the timesteps it was asked for (and never touches x). */
function recording(field: (x: Float32Array) => Float32Array, calls: number[]): VelocityFn {
  return (x, t) => {
    calls.push(t);
    return Promise.resolve(field(x));
  };
}

/** A full run of the current schedule on a copy of `x0`. */
async function run(
  scheduler: FlowMatchScheduler,
  x0: Float32Array,
  velocity: VelocityFn,
): Promise<Float32Array> {
  const x = x0.slice();
  for (let i = 0; i < scheduler.steps; i++) {
    const returned = await scheduler.step(x, i, velocity);
    // In place, as the interface promises: the caller owns the latents.
    expect(returned).toBe(x);
  }
  return x;
}

const X0 = new Float32Array([1, -0.5, 2.25, 0, -3]);

/**
 * What every flow-match solver must do, whatever its order. Call it inside a describe() with a
 * factory for a scheduler of `steps` steps built from `config` (the registry's createScheduler
 * with a model's scheduler_config.json); tests/sampler/schedulers.test.ts runs it for every
 * name in SAMPLER_NAMES.
 */
export function schedulerContract(
  makeScheduler: (steps: number) => FlowMatchScheduler,
  config: SchedulerConfig,
): void {
  it('has as many steps as asked, n + 1 sigmas and n model timesteps', () => {
    for (const n of STEP_COUNTS) {
      const s = makeScheduler(n);
      expect(s.steps).toBe(n);
      expect(s.sigmas).toHaveLength(n + 1);
      expect(s.timesteps).toHaveLength(n);
      // setTimesteps on the same object changes the schedule.
      s.setTimesteps(n + 1);
      expect(s.steps).toBe(n + 1);
    }
  });

  it('runs σ from 1 down to exactly 0, strictly decreasing, on the shifted schedule', () => {
    for (const n of STEP_COUNTS) {
      const sigmas = [...makeScheduler(n).sigmas];
      expect(sigmas[0]).toBe(1);
      expect(sigmas[n]).toBe(0);
      sigmas.slice(1).forEach((sigma, i) => {
        expect(sigma).toBeLessThan(sigmas[i] ?? Infinity);
      });
      sigmasOf(n, config.shift).forEach((expected, i) => {
        expect(sigmas[i]).toBeCloseTo(expected, 12);
      });
    }
  });

  it('gives the model timesteps σ·num_train_timesteps of all but the last σ', () => {
    const s = makeScheduler(5);
    expect([...s.timesteps]).toEqual(
      [...s.sigmas.slice(0, 5)].map((sigma) => sigma * config.numTrainTimesteps),
    );
  });

  it('makes modelEvaluations() calls per run, only at schedule timesteps, never at σ = 0', async () => {
    for (const n of STEP_COUNTS) {
      const s = makeScheduler(n);
      const calls: number[] = [];
      await run(
        s,
        X0,
        recording((x) => x.map((v) => -v), calls),
      );
      expect(calls).toHaveLength(s.modelEvaluations());
      expect(s.modelEvaluations()).toBeGreaterThanOrEqual(n);
      for (const t of calls) expect([...s.timesteps]).toContain(t);
    }
  });

  it('leaves x unchanged under a zero velocity', async () => {
    for (const n of STEP_COUNTS) {
      const x = await run(
        makeScheduler(n),
        X0,
        recording((x) => new Float32Array(x.length), []),
      );
      expect([...x]).toEqual([...X0]);
    }
  });

  it('integrates a constant velocity exactly: x(0) = x(1) + (0 − 1)·v', async () => {
    const v = new Float32Array([0.5, -1, 2, 0.125, -0.75]);
    for (const n of STEP_COUNTS) {
      const x = await run(
        makeScheduler(n),
        X0,
        recording(() => v.slice(), []),
      );
      x.forEach((value, k) => {
        expect(value).toBeCloseTo((X0[k] ?? 0) - (v[k] ?? 0), 5);
      });
    }
  });

  it('converges on dx/dσ = k·x (exact x(0) = x(1)·e^(−k)) as the steps grow', async () => {
    const k = 0.8;
    const error = async (n: number) => {
      const x = await run(
        makeScheduler(n),
        X0,
        recording((x) => x.map((v) => k * v), []),
      );
      return Math.max(...[...x].map((value, i) => Math.abs(value - (X0[i] ?? 0) * Math.exp(-k))));
    };
    expect(await error(64)).toBeLessThan((await error(8)) / 4);
  });

  it('is deterministic, and one object serves many runs (no per-run state)', async () => {
    const field = (x: Float32Array) => x.map((v, i) => Math.sin(v + i) - 0.3 * v);
    const s = makeScheduler(7);
    const first = await run(s, X0, recording(field, []));
    const again = await run(s, X0, recording(field, []));
    const fresh = await run(makeScheduler(7), X0, recording(field, []));
    expect([...again]).toEqual([...first]);
    expect([...fresh]).toEqual([...first]);
  });

  it('refuses a step index outside the schedule', async () => {
    const s = makeScheduler(3);
    const zero = recording((x) => new Float32Array(x.length), []);
    await expect(s.step(X0.slice(), 3, zero)).rejects.toBeInstanceOf(RangeError);
  });

  it('is found again by its scheduler_config.json class name', () => {
    const scheduler = makeScheduler(1);
    const { className } = scheduler.constructor as unknown as { className?: string };
    expect(className).toBeTypeOf('string');
    const name = samplerForClassName(className ?? '');
    expect(name).toBeDefined();
    if (name) expect(createScheduler(name, config, 1).constructor).toBe(scheduler.constructor);
  });
}
