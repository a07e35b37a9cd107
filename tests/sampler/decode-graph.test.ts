import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStockRunner } from '../../gpu-worker/src/runner/stock-runner.ts';
import type { Runner } from '../../gpu-worker/src/runner/runner.ts';
import { decodeLatents, decodeToPixels } from '../../gpu-worker/src/sampler/components.ts';
import { openDecodeGraph } from '../../gpu-worker/src/sampler/decode-graph.ts';
import { generate, loadModel, readModelConfig } from '../../gpu-worker/src/sampler/index.ts';
import { toRgb8, unscaleLatents } from '../../gpu-worker/src/sampler/pixels.ts';
import { generateVideos, loadVideoModel } from '../../gpu-worker/src/sampler/video/index.ts';

/**
 * The shipped model's decode graph (vae_decoder/decode*.onnx: un-scale + decoder + uint8 pixels)
 * on the CPU against the host's path (un-scale, the decoder graph, toRgb8): the same pixels but
 * for values within one float32 rounding of a level's edge. CUDA runs decode.fp16.onnx; its
 * figures are in docs/gpu.md.
 */
const DIR = 'models/shapes-mmdit-s';
const LATENT = [16, 16, 16] as const;
const ROWS = 3;
const SIZE = 128;

const wave = (n: number, phase: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase) * 1.4);

describe('the decode graph', () => {
  let graph: Runner;
  let decoder: Runner;
  beforeAll(async () => {
    graph = await openStockRunner(join(DIR, 'vae_decoder', 'decode.onnx'), {
      device: 'cpu',
      threads: 2,
    });
    decoder = await openStockRunner(join(DIR, 'vae_decoder', 'model.onnx'), {
      device: 'cpu',
      threads: 2,
    });
  });
  afterAll(async () => {
    await graph.release();
    await decoder.release();
  });

  it('gives the host path’s pixels, HWC, at most one level off at a few edges', async () => {
    const config = await readModelConfig(DIR);
    const vae = config.vaeDecoder;
    if (!vae) throw new Error('the shipped model has a VAE');
    const latents = wave(ROWS * LATENT[0] * LATENT[1] * LATENT[2], 0.3);
    const pixels = await decodeToPixels(graph, latents, ROWS, LATENT);
    const rgb = await decodeLatents(
      decoder,
      unscaleLatents(latents, vae.scalingFactor, vae.shiftFactor),
      ROWS,
      LATENT,
    );
    const plane = 3 * SIZE * SIZE;
    expect(pixels.length).toBe(ROWS * plane);
    let off = 0;
    let worst = 0;
    for (let s = 0; s < ROWS; s++) {
      const host = toRgb8(rgb.subarray(s * plane, (s + 1) * plane), SIZE, SIZE);
      const mine = pixels.subarray(s * plane, (s + 1) * plane);
      for (let i = 0; i < plane; i++) {
        const d = Math.abs((mine[i] ?? 0) - (host[i] ?? 0));
        if (d > 0) off += 1;
        worst = Math.max(worst, d);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(off / (ROWS * plane)).toBeLessThan(0.001);
    // Not a constant image: the wave decodes to many levels.
    expect(new Set(pixels).size).toBeGreaterThan(64);
  });

  it('is what generate() decodes through where the model has it open', async () => {
    const model = await loadModel(DIR, { device: 'cpu', threads: 2 });
    try {
      const requests = [
        { prompt: 'a red circle left of a blue square', seed: 3, steps: 4 },
        { prompt: 'a large yellow star', seed: 4, steps: 6 },
      ];
      const host = await generate(model, requests);
      const viaGraph = await generate({ ...model, pixelDecoder: graph }, requests);
      for (const [s, result] of viaGraph.entries()) {
        const expected = host[s]?.pixels ?? new Uint8Array(0);
        expect(result.pixels.length).toBe(expected.length);
        const worst = result.pixels.reduce(
          (m, v, i) => Math.max(m, Math.abs(v - (expected[i] ?? 0))),
          0,
        );
        expect(worst).toBeLessThanOrEqual(1);
      }
    } finally {
      await model.release();
    }
  });

  it('is what a video model decodes its frames through where it has it open', async () => {
    const dir = 'models/shapes-video-s';
    const video = await loadVideoModel(dir, { device: 'cpu', threads: 2 });
    const videoGraph = await openStockRunner(join(dir, 'vae_decoder', 'decode.onnx'), {
      device: 'cpu',
      threads: 2,
    });
    try {
      expect(video.pixelDecoder).toBeNull();
      const request = [{ prompt: 'a red circle moving left', seed: 2, frames: 8, steps: 3 }];
      const [host] = await generateVideos(video, request);
      const [viaGraph] = await generateVideos({ ...video, pixelDecoder: videoGraph }, request);
      expect(viaGraph?.frames).toHaveLength(8);
      viaGraph?.frames.forEach((frame, t) => {
        const expected = host?.frames[t] ?? new Uint8Array(0);
        expect(frame.length).toBe(expected.length);
        const worst = frame.reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] ?? 0))), 0);
        expect(worst).toBeLessThanOrEqual(1);
      });
    } finally {
      await videoGraph.release();
      await video.release();
    }
  });

  it('is opened only where the manifest names one: CUDA for the shipped model', async () => {
    const config = await readModelConfig(DIR);
    expect(config.manifest.decodeGraph).toEqual({ cuda: 'decode.fp16.onnx' });
    expect(await openDecodeGraph(config, 'cpu', 'stock')).toBeNull();
  });
});
