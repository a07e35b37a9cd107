import { standardNormal } from '../../gpu-worker/src/sampler/noise.ts';
import { sigmasOf } from './closed-form.ts';
import { encoderWeight, TEST_VIDEO_MODEL } from './test-video-model.ts';

/**
 * What the video test model (tests/helpers/test-video-model.ts) must produce, computed by hand
 * in float64 from its closed form, independently of the sampler's layout, batching and CFG.
 */

const M = TEST_VIDEO_MODEL;
const C = M.channels;
const WEIGHTS: readonly number[] = M.weights;
const W_MEAN = WEIGHTS.reduce((a, b) => a + b, 0) / C;

/** c_text[k] = m·(W[k] + mean(W)), m the mean of the prompt's L input ids (padding included). */
export function textConditioning(ids: readonly number[]): number[] {
  const m = ids.reduce((a, b) => a + b, 0) / ids.length;
  return WEIGHTS.map((w) => m * (w + W_MEAN));
}

/** c_uncond + g·(c_cond − c_uncond), per channel. */
export function guided(cond: readonly number[], uncond: readonly number[], g: number): number[] {
  return cond.map((c, k) => (uncond[k] ?? 0) + g * (c - (uncond[k] ?? 0)));
}

/** Euler on v = α(x − c)/σ multiplies (x − c) by Π_i (1 + αΔ_i/σ_i). */
export function freeContraction(steps: number): number {
  const s = sigmasOf(steps, M.shift);
  let product = 1;
  for (let i = 0; i < steps; i++) {
    product *= 1 + (M.alpha * ((s[i + 1] ?? 0) - (s[i] ?? 1))) / (s[i] ?? 1);
  }
  return product;
}

/** uint8 RGB HWC as float CHW in [−1, 1] (u/127.5 − 1), pooled 2×2: what the encoder averages. */
function pooled(frame: Uint8Array, width: number, height: number): number[][] {
  const f = M.downsampleFactor;
  const [h, w] = [height / f, width / f];
  return [0, 1, 2].map((ch) => {
    const out = new Array<number>(h * w).fill(0);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const at = Math.floor(y / f) * w + Math.floor(x / f);
        out[at] = (out[at] ?? 0) + ((frame[(y * width + x) * 3 + ch] ?? 0) / 127.5 - 1) / (f * f);
      }
    }
    return out;
  });
}

/** The encoder's latent [C][h·w] of one frame of the clip's size. */
export function encodedFrame(frame: Uint8Array, width: number, height: number): number[][] {
  const rgb = pooled(frame, width, height);
  return Array.from({ length: C }, (_, k) =>
    (rgb[k % 3] ?? []).map((p) => (encoderWeight(k, k % 3) * p - M.shiftFactor) * M.scalingFactor),
  );
}

export interface ExpectedClip {
  readonly seed: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly steps: number;
  /** per-channel text conditioning after guidance */
  readonly cText: readonly number[];
  /** given frames: frame index → its clean latent [C][h·w] */
  readonly given?: ReadonlyMap<number, number[][]>;
}

/** uint8 RGB HWC frames: the final latents → unscale → channels 0..2 upsampled ×2 → uint8. */
export function expectedFrames(e: ExpectedClip): Uint8Array[] {
  const f = M.downsampleFactor;
  const [h, w] = [e.height / f, e.width / f];
  const hw = h * w;
  const given = e.given ?? new Map<number, number[][]>();
  // S[k]: the mean over (frame, y, x) of the given latents, zeros elsewhere.
  const s = Array.from({ length: C }, (_, k) => {
    let sum = 0;
    for (const latent of given.values()) for (const z of latent[k] ?? []) sum += z;
    return sum / (e.frames * hw);
  });
  const noise = standardNormal(e.seed, C * e.frames * hw);
  const shrink = freeContraction(e.steps);
  const out: Uint8Array[] = [];
  for (let t = 0; t < e.frames; t++) {
    const frame = new Uint8Array(e.width * e.height * 3);
    for (let k = 0; k < 3; k++) {
      const c = (e.cText[k] ?? 0) + M.beta * (s[k] ?? 0);
      for (let y = 0; y < e.height; y++) {
        for (let x = 0; x < e.width; x++) {
          const p = Math.floor(y / f) * w + Math.floor(x / f);
          const z =
            given.get(t)?.[k]?.[p] ?? c + ((noise[(k * e.frames + t) * hw + p] ?? 0) - c) * shrink;
          const rgb = z / M.scalingFactor + M.shiftFactor;
          const unit = Math.min(1, Math.max(0, (rgb + 1) / 2));
          frame[(y * e.width + x) * 3 + k] = Math.floor(unit * 255 + 0.5);
        }
      }
    }
    out.push(frame);
  }
  return out;
}
