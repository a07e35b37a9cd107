/**
 * Seeded Gaussian noise, bit-identical to the Python reference
 * (gpu-worker/training/ditserve_train/noise.py; spec in docs/model-format.md, "Noise").
 *
 * Why Philox: it is counter-based, so normal n of a seed is a pure function of (seed, n). A
 * sample's noise therefore does not depend on the batch it runs in, and PyTorch/NumPy can
 * reproduce it exactly. Everything is computed in float64 and rounded once to float32.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;
const TWO_PI = 2 * Math.PI;

/** Seeds travel through JSON and JavaScript numbers, so they are integers in [0, 2^53 − 1]. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * High 32 bits of the 64-bit product a·m of two uint32 values, without BigInt: a·m_lo and a·m_hi
 * are below 2^48, so every intermediate is an exact float64 integer.
 */
function mulhi(a: number, mLo: number, mHi: number): number {
  const lowPart = a * mLo;
  const mid = a * mHi + Math.floor(lowPart / 65536);
  return Math.floor(mid / 65536);
}

const M0_LO = M0 & 0xffff;
const M0_HI = M0 >>> 16;
const M1_LO = M1 & 0xffff;
const M1_HI = M1 >>> 16;

/**
 * Philox4x32-10 output of one block: key (k0, k1), counter (c0, c1, 0, 0); writes four uint32
 * into `out`. Exported for the known-answer test.
 */
export function philox4x32x10(
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let x0 = c0;
  let x1 = c1;
  let x2 = 0;
  let x3 = 0;
  let key0 = k0;
  let key1 = k1;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(x0, M0_LO, M0_HI);
    const lo0 = Math.imul(x0, M0) >>> 0;
    const hi1 = mulhi(x2, M1_LO, M1_HI);
    const lo1 = Math.imul(x2, M1) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
}

function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  }
}

/**
 * Writes normals 0 … out.length − 1 of the stream of `seed` into `out` (float32).
 * Block i gives four uniforms u = (x + 0.5) / 2^32, which Box–Muller turns into z0..z3.
 */
export function fillStandardNormal(seed: number, out: Float32Array): Float32Array {
  assertSeed(seed);
  const k0 = seed % TWO_POW_32;
  const k1 = Math.floor(seed / TWO_POW_32);
  const block = new Uint32Array(4);
  const z = new Float64Array(4);
  const blocks = Math.ceil(out.length / 4);
  for (let i = 0; i < blocks; i++) {
    philox4x32x10(k0, k1, i % TWO_POW_32, Math.floor(i / TWO_POW_32), block);
    for (let pair = 0; pair < 4; pair += 2) {
      const ua = ((block[pair] ?? 0) + 0.5) / TWO_POW_32;
      const ub = ((block[pair + 1] ?? 0) + 0.5) / TWO_POW_32;
      const r = Math.sqrt(-2 * Math.log(ua));
      z[pair] = r * Math.cos(TWO_PI * ub);
      z[pair + 1] = r * Math.sin(TWO_PI * ub);
    }
    const base = i * 4;
    const n = Math.min(4, out.length - base);
    for (let j = 0; j < n; j++) out[base + j] = z[j] ?? 0;
  }
  return out;
}

/** The first `count` normals of the stream of `seed`, as float32. */
export function standardNormal(seed: number, count: number): Float32Array {
  return fillStandardNormal(seed, new Float32Array(count));
}

/**
 * Initial latents for a batch: float32 [seeds.length, ...sampleShape] in C order, each sample
 * from its own seed (so a request's noise is the same whatever batch it is in).
 */
export function latentNoise(
  seeds: readonly number[],
  sampleShape: readonly number[],
): Float32Array {
  const perSample = sampleShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(seeds.length * perSample);
  seeds.forEach((seed, i) => {
    fillStandardNormal(seed, out.subarray(i * perSample, (i + 1) * perSample));
  });
  return out;
}
