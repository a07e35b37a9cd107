import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeImage,
  generate,
  loadModel,
  metadataFor,
  ModelFileMissingError,
  type DitModel,
  type GenerationRequest,
} from '../../gpu-worker/src/sampler/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeTestModel } from '../helpers/test-model.ts';

/**
 * The sampler through either runner on the CPU: the same library, kernels and session options,
 * so the same seed must give the same PNG bytes, not merely close pixels.
 */
async function pngs(model: DitModel, requests: GenerationRequest[]): Promise<Buffer[]> {
  const results = await generate(model, requests);
  return Promise.all(
    results.map((r) =>
      encodeImage(r, 'png', metadataFor({ ...r, model: model.config.manifest.name })),
    ),
  );
}

describe('the shipped model through the stock and the native runner', () => {
  const models: Partial<Record<'stock' | 'native', DitModel>> = {};
  beforeAll(async () => {
    // Same thread count for both: the split of work across threads is part of what must match.
    for (const runner of ['stock', 'native'] as const) {
      models[runner] = await loadModel('models/shapes-mmdit-s', {
        device: 'cpu',
        threads: 2,
        runner,
      });
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(models).map((m) => m.release()));
  });
  const loaded = (runner: 'stock' | 'native'): DitModel => {
    const model = models[runner];
    if (!model) throw new Error(`the ${runner} model did not load`);
    return model;
  };

  it('loads the same graphs into runners of the asked kind', () => {
    expect(models.stock?.transformer.kind).toBe('stock');
    expect(models.native?.transformer.kind).toBe('native');
    expect(models.native?.vaeDecoder?.kind).toBe('native');
    expect(models.native?.transformer.inputNames).toEqual(models.stock?.transformer.inputNames);
  });

  it('gives byte-identical PNGs for the same seeds (guided batch of two, 3 steps)', async () => {
    const requests: GenerationRequest[] = [
      { prompt: 'a red circle left of a blue square', seed: 11, steps: 3 },
      {
        prompt: 'a green triangle',
        negativePrompt: 'a star',
        seed: 12,
        steps: 3,
        guidanceScale: 6,
      },
    ];
    const [stock, native] = await Promise.all([
      pngs(loaded('stock'), requests),
      pngs(loaded('native'), requests),
    ]);
    expect(native).toHaveLength(2);
    native.forEach((png, i) => {
      expect(png.equals(stock[i] ?? Buffer.alloc(0))).toBe(true);
    });
    // Different seeds gave different images: the comparison is not between blanks.
    expect(stock[0]?.equals(stock[1] ?? Buffer.alloc(0))).toBe(false);
  });
});

describe('the closed-form test model through either runner', () => {
  it('gives the same PNG bytes, latent and pixel space', async () => {
    const dir = await tempDir('runner-parity-');
    for (const pixelSpace of [false, true]) {
      const modelDir = await writeTestModel(join(dir, String(pixelSpace)), { pixelSpace });
      const out: Buffer[][] = [];
      for (const runner of ['stock', 'native'] as const) {
        const model = await loadModel(modelDir, { device: 'cpu', threads: 1, runner });
        try {
          out.push(
            await pngs(model, [
              { prompt: 'a', seed: 3 },
              { prompt: 'b', seed: 4 },
            ]),
          );
        } finally {
          await model.release();
        }
      }
      const [stock = [], native = []] = out;
      expect(native.map((b) => b.toString('base64'))).toEqual(
        stock.map((b) => b.toString('base64')),
      );
    }
  });
});

describe('a shipped component without its weights.bin, through the native runner', () => {
  it("is the same model_file_missing error as through the stock runner (onnxruntime's words)", async () => {
    const dir = join(await tempDir('runner-weights-'), 'shapes-mmdit-s');
    await cp('models/shapes-mmdit-s', dir, { recursive: true });
    const weights = join(dir, 'vae_decoder', 'weights.bin');
    await rm(weights);
    const load = loadModel(dir, { device: 'cpu', threads: 1, runner: 'native' });
    await expect(load).rejects.toBeInstanceOf(ModelFileMissingError);
    await expect(load).rejects.toThrow(`missing weights file ${weights}`);
  });
});
