import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelConfig, videoLimitsOf } from '../../../gpu-worker/src/model-contract/index.ts';
import {
  InvalidRequestError,
  loadModel,
  ModelConfigError,
  ModelFileMissingError,
} from '../../../gpu-worker/src/sampler/index.ts';
import {
  decodeInitImage,
  fitFrame,
  generateVideo,
  loadVideoModel,
  type VideoModel,
  type VideoRequest,
} from '../../../gpu-worker/src/sampler/video/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { patchJson, writeTestModel } from '../../helpers/test-model.ts';
import { TEST_VIDEO_LIMITS, writeTestVideoModel } from '../../helpers/test-video-model.ts';

let root: string;
let model: VideoModel;

beforeAll(async () => {
  root = await tempDir();
  model = await loadVideoModel(await writeTestVideoModel(join(root, 'video')), {
    device: 'cpu',
    threads: 1,
  });
});

afterAll(async () => {
  await model.release();
});

describe('the video manifest (model_index.json ditserve.modality / video)', () => {
  it('is read with the image configs: modality, frames range, fps, flags, vae_encoder', async () => {
    const config = await readModelConfig(join(root, 'video'));
    expect(config.manifest.modality).toBe('video');
    const { sizes, ...video } = TEST_VIDEO_LIMITS;
    expect(config.manifest.video).toEqual(video);
    expect(config.componentDirs.vae_encoder).toBe(join(root, 'video', 'vae_encoder'));
    expect(videoLimitsOf(config.manifest)?.sizes).toEqual(sizes);
  });

  it('is absent for an image model (modality "image")', async () => {
    const config = await readModelConfig(await writeTestModel(join(root, 'image')));
    expect(config.manifest.modality).toBe('image');
    expect(config.manifest.video).toBeNull();
    expect(videoLimitsOf(config.manifest)).toBeNull();
  });

  it.each([
    ['max below min', { frames: { min: 8, max: 4, multiple_of: 2 } }, /"max" \(4\) is below/],
    ['no allowed count', { frames: { min: 5, max: 5, multiple_of: 2 } }, /no multiple of 2/],
    ['context ≥ shortest clip', { extend_context_frames: 4 }, /extend_context_frames/],
    ['no fps', { fps: 0 }, /"fps" must be a number > 0/],
  ])('refuses a broken "video" entry: %s', async (_, patch, message) => {
    const dir = await writeTestVideoModel(join(root, `broken-${String(Math.random())}`), {
      video: patch,
    });
    await expect(readModelConfig(dir)).rejects.toThrow(message);
    await expect(readModelConfig(dir)).rejects.toBeInstanceOf(ModelConfigError);
  });

  it('refuses default frames outside the range, an unknown modality, frames the patch cannot split', async () => {
    const dir = await writeTestVideoModel(join(root, 'defaults'));
    const index = join(dir, 'model_index.json');
    await patchJson(index, (m) => {
      ((m.ditserve as Record<string, unknown>).defaults as Record<string, unknown>).frames = 7;
    });
    await expect(readModelConfig(dir)).rejects.toThrow(/"frames" must be an integer in \[4, 12\]/);
    await patchJson(index, (m) => {
      const d = m.ditserve as Record<string, unknown>;
      (d.defaults as Record<string, unknown>).frames = 6;
      d.modality = 'audio';
    });
    await expect(readModelConfig(dir)).rejects.toThrow(/"modality" must be one of image, video/);
    await patchJson(index, (m) => {
      (m.ditserve as Record<string, unknown>).modality = 'video';
    });
    await patchJson(join(dir, 'transformer', 'config.json'), (c) => (c.temporal_patch = 4));
    await expect(readModelConfig(dir)).rejects.toThrow(/temporal_patch = 4/);
  });

  it('needs vae_encoder for image-to-video or extension, and its folder', async () => {
    const dir = await writeTestVideoModel(join(root, 'no-encoder'));
    const index = join(dir, 'model_index.json');
    await patchJson(index, (m) => (m.vae_encoder = [null, null]));
    await expect(readModelConfig(dir)).rejects.toThrow(/needs the component "vae_encoder"/);
    await patchJson(index, (m) => (m.vae_encoder = ['ditserve', 'VaeEncoder']));
    await rm(join(dir, 'vae_encoder'), { recursive: true });
    await expect(readModelConfig(dir)).rejects.toBeInstanceOf(ModelFileMissingError);
  });
});

describe('loading', () => {
  it('loadModel refuses a video model and loadVideoModel an image model, saying which to use', async () => {
    await expect(loadModel(join(root, 'video'), { device: 'cpu' })).rejects.toThrow(
      /is a video model: load it with loadVideoModel/,
    );
    await expect(loadVideoModel(join(root, 'image'), { device: 'cpu' })).rejects.toThrow(
      /is an image model .* load it with loadModel/,
    );
  });

  it('opens every component, the encoder included, on the CPU', () => {
    expect(model.device).toBe('cpu');
    expect(model.vaeEncoder?.inputNames).toEqual(['sample']);
    expect([...model.transformer.inputNames].sort()).toEqual([
      'cond_latents',
      'cond_mask',
      'encoder_hidden_states',
      'hidden_states',
      'pooled_projections',
      'timestep',
    ]);
  });
});

describe('request validation (InvalidRequestError naming the field and what is allowed)', () => {
  const base: VideoRequest = { prompt: 'a red circle', seed: 1, steps: 1 };
  const frame = new Uint8Array(8 * 8 * 3);
  it.each<[string, Partial<VideoRequest>, RegExp]>([
    ['odd frames', { frames: 7 }, /frames must be an integer in \[4, 12\], a multiple of 2, got 7/],
    ['too many frames', { frames: 14 }, /frames must be .* got 14/],
    [
      'a size not trained',
      { width: 16, height: 16 },
      /width x height must be one of 8x8, 12x8, got 16x16/,
    ],
    ['a size off the grid', { width: 10 }, /width must be a multiple of 4/],
    [
      'init image bytes',
      { initImage: { width: 4, height: 4, data: new Uint8Array(10) } },
      /initImage data must hold 4×4×3 RGB bytes \(48\), got 10/,
    ],
    [
      'init image and extension',
      { initImage: { width: 8, height: 8, data: frame }, extendFrom: [frame, frame] },
      /initImage or extendFrom, not both/,
    ],
    ['too little context', { extendFrom: [frame] }, /at least 2 frames/],
    [
      'context of another size',
      { extendFrom: [frame, new Uint8Array(12 * 8 * 3)] },
      /extendFrom frames must be 8x8 RGB \(192 bytes each.*frame 1 is not/,
    ],
    ['guidance', { guidanceScale: -1 }, /guidanceScale must be a number in \[0, 30\]/],
  ])('%s', async (_, patch, message) => {
    const run = generateVideo(model, { ...base, ...patch });
    await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(run).rejects.toThrow(message);
  });

  it('refuses given frames where the manifest does not allow them', async () => {
    const dir = await writeTestVideoModel(join(root, 't2v-only'), {
      video: { image_to_video: false, extend: false },
    });
    await patchJson(join(dir, 'model_index.json'), (m) => (m.vae_encoder = [null, null]));
    const plain = await loadVideoModel(dir, { device: 'cpu', threads: 1 });
    try {
      expect(plain.vaeEncoder).toBeNull();
      await expect(
        generateVideo(plain, { ...base, initImage: { width: 8, height: 8, data: frame } }),
      ).rejects.toThrow(/initImage: this model has no image-to-video/);
      await expect(generateVideo(plain, { ...base, extendFrom: [frame, frame] })).rejects.toThrow(
        /extendFrom: this model cannot extend clips/,
      );
      expect((await generateVideo(plain, { ...base, frames: 4 })).frames).toHaveLength(4);
    } finally {
      await plain.release();
    }
  });
});

describe('init images', () => {
  it('decodes PNG/JPEG/WebP to RGB, and names initImage for bytes that are no image', async () => {
    const png = await sharp(Buffer.from([255, 0, 0, 0, 255, 0]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .png()
      .toBuffer();
    expect(await decodeInitImage(png)).toEqual({
      width: 2,
      height: 1,
      data: new Uint8Array([255, 0, 0, 0, 255, 0]),
    });
    const run = decodeInitImage(new Uint8Array([1, 2, 3, 4]), 'request 2');
    await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(run).rejects.toThrow(/^request 2: initImage is not an image that can be decoded/);
  });

  it('fitFrame covers the clip and centre-crops, area-averaging, in [−1, 1] CHW', () => {
    const gray = (values: number[], width: number, height: number) => ({
      width,
      height,
      data: Uint8Array.from(values.flatMap((v) => [v, v, v])),
    });
    // 4×2 onto 2×2: scale 1, the middle two columns.
    expect([
      ...fitFrame(gray([0, 51, 102, 153, 204, 255, 0, 51], 4, 2), 2, 2).subarray(0, 4),
    ]).toEqual([51, 102, 255, 0].map((u) => Math.fround(u / 127.5 - 1)));
    // 4×4 onto 2×2: the mean of each 2×2 block.
    const block = fitFrame(
      gray([0, 0, 255, 255, 0, 0, 255, 255, 51, 51, 0, 0, 51, 153, 0, 0], 4, 4),
      2,
      2,
    );
    expect([...block.subarray(0, 4)]).toEqual(
      [0, 255, 76.5, 0].map((u) => Math.fround(u / 127.5 - 1)),
    );
    // 1×1 onto 2×2: every pixel the one source pixel.
    expect([...fitFrame(gray([255], 1, 1), 2, 2)]).toEqual(new Array(12).fill(1));
  });
});
