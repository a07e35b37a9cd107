import { standardNormal } from '../../gpu-worker/src/sampler/noise.ts';
import { TEST_MODEL } from './test-model.ts';

/**
 * What the test model (tests/helpers/test-model.ts) must produce, computed by hand in float64
 * from its closed form, independently of the sampler's batching, CFG and ONNX plumbing.
 */

const W = TEST_MODEL.weights;
const W_MEAN = W.reduce((a, b) => a + b, 0) / W.length;

/** c[k] = m·(W[k] + mean(W)) where m is the mean of the prompt's L input ids (padding included). */
export function conditioning(ids: readonly number[]): number[] {
  const m = ids.reduce((a, b) => a + b, 0) / ids.length;
  return W.map((w) => m * (w + W_MEAN));
}

/** Guided conditioning: c_uncond + g·(c_cond − c_uncond), per channel. */
export function guidedConditioning(
  cond: readonly number[],
  uncond: readonly number[],
  g: number,
): number[] {
  return cond.map((c, k) => (uncond[k] ?? 0) + g * (c - (uncond[k] ?? 0)));
}

/** σ_i = shift·t/(1 + (shift − 1)·t), t = 1 − i/n. */
export function sigmasOf(steps: number, shift: number = TEST_MODEL.shift): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => {
    const t = 1 - i / steps;
    return (shift * t) / (1 + (shift - 1) * t);
  });
}

/**
 * With v = α(x − c)/σ every solver step multiplies (x − c) by a constant:
 *   Euler: 1 + αΔ/σ_i
 *   Heun:  1 + (Δ/2)·α·(1/σ_i + (1 + αΔ/σ_i)/σ_{i+1}), or the Euler factor when σ_{i+1} = 0,
 * with Δ = σ_{i+1} − σ_i. The run multiplies (x_0 − c) by the product of these.
 */
export function contraction(sampler: 'euler' | 'heun', steps: number): number {
  const a = TEST_MODEL.alpha;
  const s = sigmasOf(steps);
  let product = 1;
  for (let i = 0; i < steps; i++) {
    const [si, sn] = [s[i] ?? 1, s[i + 1] ?? 0];
    const dt = sn - si;
    const euler = 1 + (a * dt) / si;
    product *= sampler === 'heun' && sn > 0 ? 1 + (dt / 2) * a * (1 / si + euler / sn) : euler;
  }
  return product;
}

export interface ExpectedImage {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  /** per-channel conditioning after guidance */
  readonly c: readonly number[];
  readonly contraction: number;
  /** latent model (VAE ×2 upsampling) or pixel-space model */
  readonly pixelSpace?: boolean;
}

/** uint8 HWC pixels: final latents → unscale → nearest ×f upsampling → floor(clamp((x+1)/2)·255 + 0.5). */
export function expectedPixels(e: ExpectedImage): Uint8Array {
  const f = e.pixelSpace ? 1 : TEST_MODEL.downsampleFactor;
  const [h, w] = [e.height / f, e.width / f];
  const noise = standardNormal(e.seed, 3 * h * w);
  const out = new Uint8Array(e.width * e.height * 3);
  for (let y = 0; y < e.height; y++) {
    for (let x = 0; x < e.width; x++) {
      for (let k = 0; k < 3; k++) {
        const c = e.c[k] ?? 0;
        const z =
          c +
          ((noise[(k * h + Math.floor(y / f)) * w + Math.floor(x / f)] ?? 0) - c) * e.contraction;
        const rgb = e.pixelSpace ? z : z / TEST_MODEL.scalingFactor + TEST_MODEL.shiftFactor;
        const unit = Math.min(1, Math.max(0, (rgb + 1) / 2));
        out[(y * e.width + x) * 3 + k] = Math.floor(unit * 255 + 0.5);
      }
    }
  }
  return out;
}

/** Largest per-byte difference (float32 graphs vs float64 hand maths may round a byte apart). */
export function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  a.forEach((v, i) => (max = Math.max(max, Math.abs(v - (b[i] ?? 0)))));
  return max;
}
