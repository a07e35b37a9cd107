import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeImage,
  generate,
  GenerationCanceledError,
  InvalidRequestError,
  loadModel,
  metadataFor,
  type DitModel,
  type GenerationRequest,
  type GenerationResult,
} from '../../gpu-worker/src/sampler/index.ts';
import {
  conditioning,
  contraction,
  expectedPixels,
  guidedConditioning,
  maxAbsDiff,
} from '../helpers/closed-form.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_MODEL, writeTestModel } from '../helpers/test-model.ts';
import { TEST_VOCAB } from '../helpers/tokenizer-fixture.ts';

const v = (word: string) => TEST_VOCAB[word] ?? NaN;
// input_ids (L = 8) written out by hand from the fixture vocabulary.
const IDS = {
  'a red circle': [2, v('a'), v('red'), v('circle'), 3, 0, 0, 0],
  'blue square': [2, v('blue'), v('square'), 3, 0, 0, 0, 0],
  'big triangle': [2, v('big'), v('triangle'), 3, 0, 0, 0, 0],
  green: [2, v('green'), 3, 0, 0, 0, 0, 0],
  '': [2, 3, 0, 0, 0, 0, 0, 0],
} as const;

let model: DitModel;
let pixelModel: DitModel;

beforeAll(async () => {
  const dir = await tempDir();
  model = await loadModel(await writeTestModel(join(dir, 'latent')), { device: 'cpu', threads: 1 });
  pixelModel = await loadModel(await writeTestModel(join(dir, 'pixel'), { pixelSpace: true }), {
    device: 'cpu',
    threads: 1,
  });
});

afterAll(async () => {
  await model.release();
  await pixelModel.release();
});

async function one(m: DitModel, request: GenerationRequest): Promise<GenerationResult> {
  const [result] = await generate(m, [request]);
  if (!result) throw new Error('no result');
  return result;
}

describe('generate() against the closed-form test model', () => {
  it('Euler with CFG lands where the hand-computed flow says (latent model + VAE)', async () => {
    const request = {
      prompt: 'a red circle',
      seed: 7,
      steps: 4,
      guidanceScale: 3,
      width: 8,
      height: 4,
      sampler: 'euler',
    };
    const result = await one(model, request);
    // σ = [1, 0.9, 0.75, 0.5, 0]; each Euler step multiplies (x − c) by 1 + 0.5·Δ/σ_i:
    // 0.95 · (1 − 0.5·0.15/0.9) · (1 − 0.5·0.25/0.75) · 0.5 = 0.95 · 0.91667 · 0.83333 · 0.5
    expect(contraction('euler', 4)).toBeCloseTo(0.95 * (11 / 12) * (5 / 6) * 0.5, 12);
    const c = guidedConditioning(conditioning(IDS['a red circle']), conditioning(IDS['']), 3);
    const expected = expectedPixels({
      seed: 7,
      width: 8,
      height: 4,
      c,
      contraction: contraction('euler', 4),
    });
    expect(result.pixels).toHaveLength(8 * 4 * 3);
    expect(maxAbsDiff(result.pixels, expected)).toBeLessThanOrEqual(1);
    expect(result).toMatchObject({
      ...request,
      negativePrompt: '',
      unknownWords: [],
      truncated: false,
    });
  });

  it('Heun (2n − 1 evaluations) matches its own closed form, with a negative prompt', async () => {
    const result = await one(model, {
      prompt: 'blue square',
      negativePrompt: 'green',
      seed: 11,
      steps: 3,
      guidanceScale: 2.5,
      width: 12,
      height: 8,
      sampler: 'heun',
    });
    const c = guidedConditioning(conditioning(IDS['blue square']), conditioning(IDS.green), 2.5);
    const expected = expectedPixels({
      seed: 11,
      width: 12,
      height: 8,
      c,
      contraction: contraction('heun', 3),
    });
    expect(maxAbsDiff(result.pixels, expected)).toBeLessThanOrEqual(1);
    // A Heun image differs from the Euler one of the same request.
    const euler = await one(model, {
      prompt: 'blue square',
      negativePrompt: 'green',
      seed: 11,
      steps: 3,
      guidanceScale: 2.5,
      width: 12,
      height: 8,
      sampler: 'euler',
    });
    expect(maxAbsDiff(result.pixels, euler.pixels)).toBeGreaterThan(1);
  });

  it('takes v_cond alone at guidance 1 (the negative prompt has no effect)', async () => {
    const a = await one(model, {
      prompt: 'green',
      negativePrompt: 'big triangle',
      seed: 3,
      guidanceScale: 1,
    });
    const b = await one(model, { prompt: 'green', negativePrompt: '', seed: 3, guidanceScale: 1 });
    expect(a.pixels).toEqual(b.pixels);
    const expected = expectedPixels({
      seed: 3,
      width: TEST_MODEL.defaults.width,
      height: TEST_MODEL.defaults.height,
      c: conditioning(IDS.green),
      contraction: contraction('euler', TEST_MODEL.defaults.steps),
    });
    expect(maxAbsDiff(a.pixels, expected)).toBeLessThanOrEqual(1);
  });

  it('uses the latents as the image for a pixel-space model (no VAE)', async () => {
    const result = await one(pixelModel, {
      prompt: 'a red circle',
      seed: 5,
      steps: 2,
      guidanceScale: 2,
      width: 6,
      height: 4,
    });
    const c = guidedConditioning(conditioning(IDS['a red circle']), conditioning(IDS['']), 2);
    // σ = [1, 0.75, 0]: contraction (1 − 0.5·0.25) · (1 − 0.5) = 0.4375
    expect(contraction('euler', 2)).toBeCloseTo(0.4375, 12);
    const expected = expectedPixels({
      seed: 5,
      width: 6,
      height: 4,
      c,
      contraction: 0.4375,
      pixelSpace: true,
    });
    expect(maxAbsDiff(result.pixels, expected)).toBeLessThanOrEqual(1);
  });

  it('fills omitted fields from the model defaults and draws a seed when none is given', async () => {
    const result = await one(model, { prompt: 'green' });
    const d = TEST_MODEL.defaults;
    expect(result).toMatchObject({
      steps: d.steps,
      guidanceScale: d.guidance_scale,
      width: d.width,
      height: d.height,
      sampler: d.sampler,
      negativePrompt: '',
    });
    expect(Number.isSafeInteger(result.seed)).toBe(true);
  });

  it('reports unknown words of the prompt and the negative prompt', async () => {
    const result = await one(model, {
      prompt: 'a purple circle',
      negativePrompt: 'orange',
      seed: 1,
    });
    expect(result.unknownWords).toEqual(['purple', 'orange']);
  });
});

describe('batching', () => {
  const requests: GenerationRequest[] = [
    { prompt: 'a red circle', seed: 1, guidanceScale: 4, negativePrompt: 'green' },
    { prompt: 'blue square', seed: 2, guidanceScale: 1 },
    { prompt: 'big triangle', seed: 3, guidanceScale: 0 },
    // Another size and sampler: a second group within the same call.
    { prompt: 'green', seed: 4, guidanceScale: 2, width: 4, height: 8, sampler: 'heun' },
  ];

  it('gives every request the same image as when it runs alone, in request order', async () => {
    const batched = await generate(model, requests);
    expect(batched.map((r) => r.seed)).toEqual([1, 2, 3, 4]);
    for (const [i, request] of requests.entries()) {
      const alone = await one(model, request);
      expect(batched[i]?.pixels, `request ${i}`).toEqual(alone.pixels);
      expect(batched[i]).toMatchObject({
        prompt: request.prompt,
        seed: request.seed,
        guidanceScale: request.guidanceScale,
      });
    }
    expect(batched[3]).toMatchObject({ width: 4, height: 8, sampler: 'heun' });
  });
});

describe('determinism', () => {
  const request = { prompt: 'a red circle', seed: 42, steps: 3, guidanceScale: 2 };

  async function png(seed: number): Promise<Buffer> {
    const result = await one(model, { ...request, seed });
    return encodeImage(result, 'png', metadataFor({ ...result, model: 'test' }));
  }

  it('gives a byte-identical PNG for the same seed and a different image for another seed', async () => {
    const [a, b, c] = [await png(42), await png(42), await png(43)];
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    const [pa, pc] = [await one(model, request), await one(model, { ...request, seed: 43 })];
    expect(maxAbsDiff(pa.pixels, pc.pixels)).toBeGreaterThan(10);
  });
});

describe('progress and cancellation', () => {
  it('reports (step, total, elapsed) after every step of every group', async () => {
    const calls: [number, number, number][] = [];
    await generate(
      model,
      [
        { prompt: 'green', steps: 3, seed: 1 },
        { prompt: 'green', steps: 2, seed: 1 },
      ],
      { onProgress: (step, total, elapsed) => calls.push([step, total, elapsed]) },
    );
    expect(calls.map(([step]) => step)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(calls.map(([, total]) => total))).toEqual(new Set([5]));
    const elapsed = calls.map(([, , ms]) => ms);
    expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
    expect(elapsed.every((ms) => ms >= 0)).toBe(true);
  });

  it('stops at the next step boundary once the signal fires', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const run = generate(model, [{ prompt: 'green', steps: 6, seed: 1 }], {
      signal: controller.signal,
      onProgress: (step) => {
        steps.push(step);
        if (step === 2) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(GenerationCanceledError);
    await expect(run).rejects.toMatchObject({
      code: 'generation_canceled',
      message: /after 2 of 6 steps/,
    });
    expect(steps).toEqual([1, 2]);
  });

  it('does no work for a signal that has already fired', async () => {
    const steps: number[] = [];
    const run = generate(model, [{ prompt: 'green', seed: 1 }], {
      signal: AbortSignal.abort(),
      onProgress: (step) => steps.push(step),
    });
    await expect(run).rejects.toBeInstanceOf(GenerationCanceledError);
    expect(steps).toEqual([]);
  });
});

describe('request validation', () => {
  it.each([
    [{ prompt: 'x', width: 10 }, /width must be a multiple of 4/],
    [{ prompt: 'x', steps: 0 }, /steps must be an integer in \[1, 200\]/],
    [{ prompt: 'x', guidanceScale: -1 }, /guidanceScale must be a number in \[0, 30\]/],
    [{ prompt: 'x', seed: -3 }, /seed must be an integer/],
    [{ prompt: 'x', sampler: 'ddim' }, /sampler must be one of euler, heun/],
  ] as [GenerationRequest, RegExp][])(
    'rejects %o with a typed error naming the field',
    async (request, message) => {
      const run = generate(model, [request]);
      await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(run).rejects.toThrow(message);
    },
  );

  it('names the offending request of a batch and rejects an empty batch', async () => {
    await expect(generate(model, [{ prompt: 'x' }, { prompt: 'y', steps: 1.5 }])).rejects.toThrow(
      /^request 1: steps/,
    );
    await expect(generate(model, [])).rejects.toBeInstanceOf(InvalidRequestError);
  });
});
