import { describe, expect, it } from 'vitest';
import { FlowMatchEulerDiscreteScheduler } from '../../gpu-worker/src/sampler/schedulers/euler.ts';
import { shiftedSigmas } from '../../gpu-worker/src/sampler/schedulers/flow-match.ts';
import { FlowMatchHeunDiscreteScheduler } from '../../gpu-worker/src/sampler/schedulers/heun.ts';
import { readModelConfig } from '../../gpu-worker/src/sampler/model-config.ts';
import {
  createScheduler,
  isSamplerName,
  SAMPLER_NAMES,
  samplerForClassName,
} from '../../gpu-worker/src/sampler/schedulers/registry.ts';
import type { VelocityFn } from '../../gpu-worker/src/sampler/schedulers/types.ts';
import { schedulerContract } from './scheduler.contract.ts';

const config = { className: 'FlowMatchEulerDiscreteScheduler', numTrainTimesteps: 1000, shift: 3 };

/** A velocity field v(x) = k·x that records the timesteps it was asked for. */
function linearField(k: number, calls: number[]): VelocityFn {
  return (x, t) => {
    calls.push(t);
    return Promise.resolve(x.map((v) => k * v));
  };
}

describe('shifted sigma schedule', () => {
  it('shift 3, 2 steps: t = [1, 0.5, 0] → σ = [3·1/(1+2·1), 3·0.5/(1+2·0.5), 0] = [1, 0.75, 0]', () => {
    expect([...shiftedSigmas(2, 3)]).toEqual([1, 0.75, 0]);
  });

  it('shift 3, 4 steps: t = [1, .75, .5, .25, 0] → σ = [1, 2.25/2.5, 1.5/2, 0.75/1.5, 0]', () => {
    const sigmas = [...shiftedSigmas(4, 3)];
    [1, 0.9, 0.75, 0.5, 0].forEach((expected, i) => {
      expect(sigmas[i]).toBeCloseTo(expected, 15);
    });
  });

  it('shift 1 is the plain linear schedule σ_i = 1 − i/n', () => {
    expect([...shiftedSigmas(4, 1)]).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it('rejects a step count that is not a positive integer', () => {
    expect(() => shiftedSigmas(0, 3)).toThrow(RangeError);
    expect(() => shiftedSigmas(2.5, 3)).toThrow(RangeError);
  });
});

describe('FlowMatchEulerDiscreteScheduler', () => {
  it('exposes σ and the model timesteps σ·1000 of the first n sigmas', () => {
    const s = new FlowMatchEulerDiscreteScheduler(config);
    s.setTimesteps(2);
    expect([...s.sigmas]).toEqual([1, 0.75, 0]);
    expect([...s.timesteps]).toEqual([1000, 750]);
    expect(s.steps).toBe(2);
    expect(s.modelEvaluations()).toBe(2);
  });

  it('steps x ← x + (σ_{i+1} − σ_i)·v: with v = 2x, x=1 → 1 + (0.75−1)·2 = 0.5 → 0.5 + (0−0.75)·1 = −0.25', async () => {
    const calls: number[] = [];
    const s = createScheduler('euler', config, 2);
    const x = new Float32Array([1]);
    await s.step(x, 0, linearField(2, calls));
    expect(x[0]).toBe(0.5);
    await s.step(x, 1, linearField(2, calls));
    expect(x[0]).toBe(-0.25);
    expect(calls).toEqual([1000, 750]);
  });
});

describe('FlowMatchHeunDiscreteScheduler', () => {
  it('averages the slopes at both ends, and ends with a plain Euler step at σ = 0', async () => {
    // v = x, σ = [1, 0.75, 0].
    // step 0: d = 1; x̃ = 1 − 0.25·1 = 0.75; d' = 0.75; x = 1 − 0.25·(1 + 0.75)/2 = 0.78125
    // step 1: σ_2 = 0 → Euler: x = 0.78125 + (0 − 0.75)·0.78125 = 0.1953125
    const calls: number[] = [];
    const s = createScheduler('heun', config, 2);
    const x = new Float32Array([1]);
    await s.step(x, 0, linearField(1, calls));
    expect(x[0]).toBe(0.78125);
    await s.step(x, 1, linearField(1, calls));
    expect(x[0]).toBe(0.1953125);
    // 2n − 1 = 3 evaluations: t(σ_0), t(σ_1), then t(σ_1) again; never at σ = 0.
    expect(calls).toEqual([1000, 750, 750]);
    expect(s.modelEvaluations()).toBe(3);
    expect(s).toBeInstanceOf(FlowMatchHeunDiscreteScheduler);
  });
});

describe('sampler registry', () => {
  it('maps sampler names to classes and scheduler_config class names back to samplers', () => {
    expect(isSamplerName('euler')).toBe(true);
    expect(isSamplerName('heun')).toBe(true);
    expect(isSamplerName('ddim')).toBe(false);
    expect(isSamplerName('toString')).toBe(false);
    expect(samplerForClassName('FlowMatchEulerDiscreteScheduler')).toBe('euler');
    expect(samplerForClassName('FlowMatchHeunDiscreteScheduler')).toBe('heun');
    expect(samplerForClassName('DDIMScheduler')).toBeUndefined();
  });
});

// Every registered sampler, built as the worker builds it from the shipped model's
// scheduler_config.json: a sampler added to the registry is held to the contract by default.
const shipped = (await readModelConfig('models/shapes-mmdit-s')).scheduler;

describe.each(SAMPLER_NAMES)('scheduler contract: %s', (name) => {
  schedulerContract((steps) => createScheduler(name, shipped, steps), shipped);
});
