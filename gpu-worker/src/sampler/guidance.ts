/**
 * Classifier-free guidance over a batch laid out as [cond_0 … cond_{B−1}, uncond_0 … uncond_{B−1}]
 * (each row `perSample` floats): v_b = v_uncond,b + g_b·(v_cond,b − v_uncond,b), each sample with
 * its own g. A sample with g = 1 takes v_cond as is, so its result does not depend on whether
 * other samples in its batch made the uncond half necessary.
 */
export function applyGuidance(
  batched: Float32Array,
  scales: readonly number[],
  perSample: number,
): Float32Array {
  const b = scales.length;
  if (batched.length !== 2 * b * perSample) {
    throw new RangeError(`expected ${2 * b}×${perSample} velocities, got ${batched.length}`);
  }
  const out = new Float32Array(b * perSample);
  scales.forEach((g, s) => {
    const cond = s * perSample;
    const uncond = (b + s) * perSample;
    const dst = s * perSample;
    if (g === 1) {
      out.set(batched.subarray(cond, cond + perSample), dst);
      return;
    }
    for (let k = 0; k < perSample; k++) {
      const vu = batched[uncond + k] ?? 0;
      out[dst + k] = vu + g * ((batched[cond + k] ?? 0) - vu);
    }
  });
  return out;
}
