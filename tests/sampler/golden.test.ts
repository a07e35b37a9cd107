import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, loadModel, type DitModel } from '../../gpu-worker/src/sampler/index.ts';
import { maxAbsDiff } from '../helpers/closed-form.ts';

/**
 * The shipped model against the PyTorch reference sampler (fp32), on cases written by
 * gpu-worker/training/ditserve_train/golden.py; the training side promises agreement within 2/255
 * per pixel (onnxruntime in Python matched it within 1/255).
 */
const MODEL_DIR = 'models/shapes-mmdit-s';
const GOLDEN_DIR = 'tests/fixtures/golden';

interface GoldenCase {
  name: string;
  prompt: string;
  negative_prompt: string;
  seed: number;
  steps: number;
  guidance_scale: number;
  width: number;
  height: number;
  sampler: string;
  input_ids: number[];
  uncond_input_ids?: number[];
  image: string;
}

const cases: GoldenCase[] = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(GOLDEN_DIR, f), 'utf8')) as GoldenCase)
  .filter((c) => typeof c.image === 'string' && Array.isArray(c.input_ids));

describe(`golden images of ${MODEL_DIR}`, () => {
  it('has the shipped model and its golden cases', () => {
    expect(existsSync(join(MODEL_DIR, 'model_index.json'))).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });

  let model: DitModel;
  beforeAll(async () => {
    model = await loadModel(MODEL_DIR, { device: 'cpu' });
  });
  afterAll(async () => {
    await model.release();
  });

  it.each(cases.map((c) => [c.name, c]))(
    '%s: same input_ids and pixels within 2/255',
    async (_, c) => {
      expect(model.tokenizer.encode(c.prompt).ids).toEqual(c.input_ids);
      if (c.uncond_input_ids) {
        expect(model.tokenizer.encode(c.negative_prompt).ids).toEqual(c.uncond_input_ids);
      }
      const [result] = await generate(model, [
        {
          prompt: c.prompt,
          negativePrompt: c.negative_prompt,
          seed: c.seed,
          steps: c.steps,
          guidanceScale: c.guidance_scale,
          width: c.width,
          height: c.height,
          sampler: c.sampler,
        },
      ]);
      const reference = await sharp(join(GOLDEN_DIR, c.image)).removeAlpha().raw().toBuffer();
      expect(result?.pixels).toHaveLength(reference.length);
      expect(
        maxAbsDiff(result?.pixels ?? new Uint8Array(), new Uint8Array(reference)),
      ).toBeLessThanOrEqual(2);
    },
  );
});
