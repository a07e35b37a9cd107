import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNativeRunner } from '../../gpu-worker/src/runner/native-runner.ts';
import { openStockRunner } from '../../gpu-worker/src/runner/stock-runner.ts';
import type { Runner } from '../../gpu-worker/src/runner/runner.ts';
import { predictVelocity } from '../../gpu-worker/src/sampler/components.ts';
import { applyGuidance } from '../../gpu-worker/src/sampler/guidance.ts';
import { generate, loadModel, type DitModel } from '../../gpu-worker/src/sampler/index.ts';
import { HostStepEngine } from '../../gpu-worker/src/sampler/stepping/host-step-engine.ts';
import { maxAbsDiff } from '../helpers/closed-form.ts';

/**
 * The shipped model's step graph on the CPU (transformer/step.onnx: transformer + guidance +
 * Euler update, fused): one step against the transformer graph with guidance and Euler in JS,
 * the same bytes through both runners (and with the shapes fixed, as CUDA graphs need), and
 * generate() through the step loop against the transformer-only path.
 */
const DIR = 'models/shapes-mmdit-s';
const STEP = join(DIR, 'transformer', 'step.onnx');
const C = 16;
const H = 16;
const W = 16;
const PER = C * H * W;
const L = 32;
const D = 128;
const B = 3;

const wave = (n: number, phase: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase) * 0.9);
const latents = wave(B * PER, 1);
const hidden = wave(2 * B * L * D, 2); // [2, B, L, D]: cond rows, then uncond rows
const pooled = wave(2 * B * D, 3);
const sigma = Float32Array.from([0.9, 0.5, 0.3]);
// Slot 2 is empty: σ' = σ, so it must not move at all.
const sigmaNext = Float32Array.from([0.85, 0.42, 0.3]);
const guidance = Float32Array.from([4.5, 1, 7]);

async function stepOnce(runner: Runner): Promise<Float32Array> {
  const engine = new HostStepEngine(B, { latent: [C, H, W], textLength: L, textWidth: D }, runner);
  for (let s = 0; s < B; s++) {
    await engine.load(s, latents.subarray(s * PER, (s + 1) * PER), {
      condHidden: hidden.subarray(s * L * D, (s + 1) * L * D),
      uncondHidden: hidden.subarray((B + s) * L * D, (B + s + 1) * L * D),
      condPooled: pooled.subarray(s * D, (s + 1) * D),
      uncondPooled: pooled.subarray((B + s) * D, (B + s + 1) * D),
    });
  }
  await engine.step({ sigma, sigmaNext, guidance });
  const out = new Float32Array(B * PER);
  for (let s = 0; s < B; s++) out.set(await engine.read(s), s * PER);
  return out;
}

describe('the step graph of the shipped model (CPU)', () => {
  let model: DitModel;
  let stock: Runner;
  beforeAll(async () => {
    model = await loadModel(DIR, { device: 'cpu', threads: 2, stepGraph: false });
    stock = await openStockRunner(STEP, { device: 'cpu', threads: 2 });
  });
  afterAll(async () => {
    await stock.release();
    await model.release();
  });

  it('moves each sample one Euler step with its own σ, σ′ and guidance', async () => {
    const got = await stepOnce(stock);
    const x2 = new Float32Array(2 * B * PER);
    x2.set(latents);
    x2.set(latents, B * PER);
    const v = applyGuidance(
      await predictVelocity(model.transformer, {
        latents: x2,
        timestep: Float32Array.from([...sigma, ...sigma], (s) => s * 1000),
        text: { hidden, pooled },
        batch: 2 * B,
        latentShape: [C, H, W],
        textLength: L,
        textWidth: D,
      }),
      [...guidance],
      PER,
    );
    let worst = 0;
    for (let s = 0; s < B; s++) {
      const dt = (sigmaNext[s] ?? 0) - (sigma[s] ?? 0);
      for (let k = 0; k < PER; k++) {
        const i = s * PER + k;
        const want = (latents[i] ?? 0) + dt * (v[i] ?? 0);
        worst = Math.max(worst, Math.abs(want - (got[i] ?? 0)));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    expect(got.subarray(2 * PER)).toEqual(latents.subarray(2 * PER));
  });

  it('gives the same bytes through the native runner; fixed shapes change only rounding', async () => {
    const reference = await stepOnce(stock);
    const native = await openNativeRunner(STEP, { device: 'cpu', threads: 2 });
    // Fixed shapes (what a CUDA graph needs) let onnxruntime fold and fuse more: other kernels.
    const fixed = await openNativeRunner(STEP, {
      device: 'cpu',
      threads: 2,
      freeDimensions: { batch: B, height: H, width: W },
    });
    try {
      expect(Buffer.from((await stepOnce(native)).buffer)).toEqual(Buffer.from(reference.buffer));
      const f = await stepOnce(fixed);
      expect(Math.max(...f.map((x, i) => Math.abs(x - (reference[i] ?? 0))))).toBeLessThan(1e-5);
    } finally {
      await native.release();
      await fixed.release();
    }
  });
});

describe('generate() through the step loop (CPU)', () => {
  let stepped: DitModel;
  let plain: DitModel;
  beforeAll(async () => {
    stepped = await loadModel(DIR, { device: 'cpu', threads: 2 });
    plain = await loadModel(DIR, { device: 'cpu', threads: 2, stepGraph: false });
  });
  afterAll(async () => {
    await stepped.release();
    await plain.release();
  });

  const requests = [
    { prompt: 'a red circle left of a blue square', seed: 7, steps: 12 },
    { prompt: 'a large yellow star', seed: 8, steps: 8, guidanceScale: 3 },
  ];

  it('steps with the host engine where there is no CUDA', () => {
    expect(stepped.stepping?.engine).toBe('host (stock runner)');
    expect(plain.stepping).toBeNull();
  });

  it('gives the pixels of the transformer-only path within 2/255, mixed steps in one call', async () => {
    const progress: [number, number][] = [];
    const a = await generate(stepped, requests, { onProgress: (d, t) => progress.push([d, t]) });
    const b = await generate(plain, requests);
    a.forEach((r, i) => {
      expect(maxAbsDiff(r.pixels, b[i]?.pixels ?? new Uint8Array())).toBeLessThanOrEqual(2);
      expect(r).toMatchObject({ steps: requests[i]?.steps, seed: requests[i]?.seed });
    });
    // Progress is over the longest request, only moves up, and ends at its total.
    expect(progress.every(([, t]) => t === 12)).toBe(true);
    expect(progress.map(([d]) => d)).toEqual([...progress.map(([d]) => d)].sort((x, y) => x - y));
    expect(progress.at(-1)).toEqual([12, 12]);
  });

  it('shares the steps of concurrent calls', async () => {
    const loop = stepped.stepping?.loop([C, H, W]);
    const before = loop?.stats ?? { runs: 0, sampleSteps: 0 };
    const [x, y] = await Promise.all(requests.map((r) => generate(stepped, [r])));
    const after = loop?.stats ?? { runs: 0, sampleSteps: 0 };
    expect(after.sampleSteps - before.sampleSteps).toBe(12 + 8);
    // The 8 steps of the second call ran inside the 12 of the first.
    expect(after.runs - before.runs).toBe(12);
    const [, second] = requests;
    if (!second) throw new Error('two requests expected');
    const alone = await generate(stepped, [second]);
    expect(
      maxAbsDiff(y?.[0]?.pixels ?? new Uint8Array(), alone[0]?.pixels ?? new Uint8Array()),
    ).toBe(0);
    expect(x?.[0]?.pixels).toHaveLength(128 * 128 * 3);
  });
});
