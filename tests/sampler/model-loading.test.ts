import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DeviceUnavailableError,
  loadModel,
  ModelConfigError,
  ModelFileMissingError,
  ModelNotFoundError,
  readModelConfig,
} from '../../gpu-worker/src/sampler/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { patchJson, TEST_MODEL, writeTestModel } from '../helpers/test-model.ts';

// The CUDA tests below fail on CPU machines on purpose; onnxruntime would also log each failed
// provider load in red. This file's process (vitest forks one per file) keeps its logger quiet.
ort.env.logLevel = 'fatal';

const root = await tempDir();
let counter = 0;
/** A fresh copy of the test model for a test to break. */
const freshModel = () => writeTestModel(join(root, `m${counter++}`));

describe('readModelConfig', () => {
  it('reads and cross-checks a valid model folder', async () => {
    const config = await readModelConfig(await freshModel());
    expect(config.manifest.name).toBe('test-latents');
    expect(config.manifest.defaults.sampler).toBe('euler');
    expect(config.scheduler).toEqual({
      className: 'FlowMatchEulerDiscreteScheduler',
      numTrainTimesteps: 1000,
      shift: 3,
    });
    expect(config.downsampleFactor).toBe(TEST_MODEL.downsampleFactor);
    expect(config.sizeMultiple).toBe(TEST_MODEL.downsampleFactor * TEST_MODEL.patchSize);
    expect(Object.keys(config.componentDirs).sort()).toEqual([
      'text_encoder',
      'transformer',
      'vae_decoder',
    ]);
  });

  it('treats vae_decoder [null, null] as a pixel-space model', async () => {
    const config = await readModelConfig(
      await writeTestModel(join(root, 'pixel'), { pixelSpace: true }),
    );
    expect(config.vaeDecoder).toBeNull();
    expect(config.downsampleFactor).toBe(1);
    expect(config.componentDirs.vae_decoder).toBeUndefined();
  });

  it('names the path of a missing model folder', async () => {
    const missing = join(root, 'no-such-model');
    const load = readModelConfig(missing);
    await expect(load).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(load).rejects.toMatchObject({
      code: 'model_not_found',
      message: `model folder not found: ${missing}`,
    });
  });

  it('names a missing component folder', async () => {
    const dir = await freshModel();
    await rm(join(dir, 'transformer'), { recursive: true });
    await expect(readModelConfig(dir)).rejects.toThrow(
      new ModelFileMissingError(`component folder missing: ${join(dir, 'transformer')}`),
    );
  });

  it('names a missing config file', async () => {
    const dir = await freshModel();
    await rm(join(dir, 'vae_decoder', 'config.json'));
    await expect(readModelConfig(dir)).rejects.toThrow(
      `missing file: ${join(dir, 'vae_decoder', 'config.json')}`,
    );
  });

  it('reports malformed JSON with the file name', async () => {
    const dir = await freshModel();
    await writeFile(join(dir, 'model_index.json'), '{"scheduler": [');
    const load = readModelConfig(dir);
    await expect(load).rejects.toBeInstanceOf(ModelConfigError);
    await expect(load).rejects.toThrow(`${join(dir, 'model_index.json')} is not valid JSON`);
  });

  it('names a missing or mistyped field and its file', async () => {
    const dir = await freshModel();
    await patchJson(join(dir, 'transformer', 'config.json'), (c) => {
      c.patch_size = 'two';
    });
    await expect(readModelConfig(dir)).rejects.toThrow(
      `${join(dir, 'transformer', 'config.json')}: "patch_size" must be an integer ≥ 1, got "two"`,
    );
  });

  it.each([
    [
      'text_encoder/config.json',
      (c: Record<string, unknown>) => (c.hidden_size = 4),
      'inconsistent model: text width: text_encoder hidden_size = 4 but transformer joint_attention_dim = 3',
    ],
    [
      'vae_decoder/config.json',
      (c: Record<string, unknown>) => (c.latent_channels = 4),
      'inconsistent model: latent channels: vae_decoder latent_channels = 4 but transformer in_channels = 3',
    ],
    [
      'transformer/config.json',
      (c: Record<string, unknown>) => (c.out_channels = 4),
      'inconsistent model: velocity channels: transformer out_channels = 4 but transformer in_channels = 3',
    ],
    [
      'tokenizer/tokenizer_config.json',
      (c: Record<string, unknown>) => (c.model_max_length = 16),
      'inconsistent model: sequence length: text_encoder max_length = 8 but tokenizer_config model_max_length = 16',
    ],
    [
      'scheduler/scheduler_config.json',
      (c: Record<string, unknown>) => (c._class_name = 'DDIMScheduler'),
      'unknown scheduler "_class_name" DDIMScheduler',
    ],
  ])('rejects an inconsistent %s', async (file, patch, message) => {
    const dir = await freshModel();
    await patchJson(join(dir, file), patch);
    const load = readModelConfig(dir);
    await expect(load).rejects.toBeInstanceOf(ModelConfigError);
    await expect(load).rejects.toThrow(message);
  });

  it('rejects default sizes off the model grid', async () => {
    const dir = await freshModel();
    await patchJson(join(dir, 'model_index.json'), (index) => {
      (index.ditserve as { defaults: { width: number } }).defaults.width = 10;
    });
    await expect(readModelConfig(dir)).rejects.toThrow(/default size 10x4 is not a multiple of 4/);
  });
});

describe('loadModel', () => {
  it('opens one session per component on the CPU and warms them up', async () => {
    const model = await loadModel(await freshModel(), { device: 'cpu', threads: 1 });
    try {
      expect(model.device).toBe('cpu');
      expect(model.fallbackReason).toBeNull();
      expect(model.textEncoder.inputNames).toEqual(['input_ids']);
      expect(model.transformer.inputNames).toEqual([
        'hidden_states',
        'timestep',
        'encoder_hidden_states',
        'pooled_projections',
      ]);
      expect(model.vaeDecoder?.outputNames).toEqual(['sample']);
      expect(model.tokenizer.maxLength).toBe(TEST_MODEL.maxLength);
    } finally {
      await model.release();
    }
  });

  it('names a missing ONNX file of the chosen variant', async () => {
    const dir = await freshModel();
    await rm(join(dir, 'transformer', 'model.onnx'));
    const load = loadModel(dir, { device: 'cpu' });
    await expect(load).rejects.toBeInstanceOf(ModelFileMissingError);
    await expect(load).rejects.toThrow(
      `missing ONNX file for cpu: ${join(dir, 'transformer', 'model.onnx')}`,
    );
  });

  it("'auto' ends on a working device and says why when that is the CPU", async () => {
    const model = await loadModel(await freshModel(), { device: 'auto', threads: 1 });
    try {
      if (model.device === 'cpu') expect(model.fallbackReason).toMatch(/CUDA/);
      else expect(model.fallbackReason).toBeNull();
    } finally {
      await model.release();
    }
  });

  it("'cuda' either runs on CUDA or fails with a typed error: it never falls back silently", async () => {
    const dir = await freshModel();
    try {
      const model = await loadModel(dir, { device: 'cuda' });
      expect(model.device).toBe('cuda');
      await model.release();
    } catch (error) {
      expect(error).toBeInstanceOf(DeviceUnavailableError);
      expect((error as DeviceUnavailableError).code).toBe('device_unavailable');
    }
  });
});
