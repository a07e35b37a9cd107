import { describe, expect, it } from 'vitest';
import { applyGuidance } from '../../gpu-worker/src/sampler/guidance.ts';

describe('applyGuidance', () => {
  // Batch of B = 2 samples with 2 values each, laid out [cond_0, cond_1, uncond_0, uncond_1].
  // prettier-ignore
  const batched = new Float32Array([
    1, 2, // cond_0
    10, 20, // cond_1
    0.5, 1, // uncond_0
    4, 8, // uncond_1
  ]);

  it('computes v_u + g·(v_c − v_u) per sample, each with its own g', () => {
    const out = applyGuidance(batched, [3, 0.5], 2);
    // sample 0, g = 3:   0.5 + 3·(1 − 0.5) = 2,    1 + 3·(2 − 1) = 4
    // sample 1, g = 0.5: 4 + 0.5·(10 − 4) = 7,     8 + 0.5·(20 − 8) = 14
    expect([...out]).toEqual([2, 4, 7, 14]);
  });

  it('gives the unconditional prediction for g = 0 and exactly v_cond for g = 1', () => {
    expect([...applyGuidance(batched, [0, 1], 2)]).toEqual([0.5, 1, 10, 20]);
  });

  it('takes v_cond bit for bit at g = 1, even where v_u + (v_c − v_u) would round', () => {
    const tricky = new Float32Array([0.1, 1e8]); // cond_0, uncond_0 (B = 1, one value)
    expect(applyGuidance(tricky, [1], 1)[0]).toBe(Math.fround(0.1));
  });

  it('rejects a batch whose size does not match 2 × samples', () => {
    expect(() => applyGuidance(new Float32Array(6), [1, 2], 2)).toThrow(RangeError);
  });
});
