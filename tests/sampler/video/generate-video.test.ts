import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GenerationCanceledError } from '../../../gpu-worker/src/sampler/errors.ts';
import type { TensorMap } from '../../../gpu-worker/src/runner/runner.ts';
import {
  generateVideo,
  generateVideos,
  loadVideoModel,
  videoLimits,
  type VideoModel,
  type VideoResult,
} from '../../../gpu-worker/src/sampler/video/index.ts';
import { maxAbsDiff } from '../../helpers/closed-form.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { TEST_VIDEO_LIMITS, TEST_VIDEO_MODEL } from '../../helpers/test-video-model.ts';
import { writeTestVideoModel } from '../../helpers/test-video-model.ts';
import { TEST_VOCAB } from '../../helpers/tokenizer-fixture.ts';
import {
  encodedFrame,
  expectedFrames,
  guided,
  textConditioning,
} from '../../helpers/video-closed-form.ts';

const v = (word: string) => TEST_VOCAB[word] ?? NaN;
// input_ids (L = 8) written out by hand from the fixture vocabulary.
const IDS = {
  'a red circle': [2, v('a'), v('red'), v('circle'), 3, 0, 0, 0],
  'blue square': [2, v('blue'), v('square'), 3, 0, 0, 0, 0],
  '': [2, 3, 0, 0, 0, 0, 0, 0],
} as const;
const K = TEST_VIDEO_MODEL.video.extend_context_frames;

let model: VideoModel;

beforeAll(async () => {
  const dir = await writeTestVideoModel(join(await tempDir(), 'video'));
  model = await loadVideoModel(dir, { device: 'cpu', threads: 1 });
});

afterAll(async () => {
  await model.release();
});

/** Every frame within one byte of the expected one. */
function expectFrames(actual: readonly Uint8Array[], expected: readonly Uint8Array[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((frame, t) => {
    expect(maxAbsDiff(frame, expected[t] ?? new Uint8Array(0)), `frame ${t}`).toBeLessThanOrEqual(
      1,
    );
  });
}

/** A picture whose 2×2 blocks differ: each pixel from its position. */
function testImage(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = (i * 37) % 256;
    data[i * 3 + 1] = (i * 91 + 40) % 256;
    data[i * 3 + 2] = 255 - ((i * 53) % 256);
  }
  return data;
}

/** Records the feeds of every transformer run (copies: the sampler reuses its buffers). */
function recordTransformer(m: VideoModel): TensorMap[] {
  const feeds: TensorMap[] = [];
  const run = m.transformer.run.bind(m.transformer);
  vi.spyOn(m.transformer, 'run').mockImplementation((f, settings) => {
    feeds.push(
      Object.fromEntries(
        Object.entries(f).map(([name, t]) => [
          name,
          { ...t, data: t.data.slice(), dims: [...t.dims] },
        ]),
      ) as TensorMap,
    );
    return run(f, settings);
  });
  return feeds;
}

describe('generateVideo() against the closed-form video test model', () => {
  it('text-to-video: F frames of width × height RGB, as the hand-computed flow says', async () => {
    const result = await generateVideo(model, {
      prompt: 'a red circle',
      seed: 7,
      steps: 3,
      guidanceScale: 3,
      width: 8,
      height: 8,
      frames: 6,
    });
    expect(result).toMatchObject({ width: 8, height: 8, fps: 8, seed: 7 });
    expect(result.request).toMatchObject({
      prompt: 'a red circle',
      negativePrompt: '',
      frames: 6,
      steps: 3,
      guidanceScale: 3,
      sampler: 'euler',
      mode: 'text_to_video',
    });
    const cText = guided(textConditioning(IDS['a red circle']), textConditioning(IDS['']), 3);
    expectFrames(
      result.frames,
      expectedFrames({ seed: 7, frames: 6, width: 8, height: 8, steps: 3, cText }),
    );
    for (const frame of result.frames) expect(frame).toHaveLength(8 * 8 * 3);
    // Frames differ (each has its own slice of the seed's noise).
    expect(result.frames[0]).not.toEqual(result.frames[1]);
  });

  it('is deterministic by seed, and another seed gives another clip', async () => {
    const request = { prompt: 'blue square', seed: 11, steps: 2, frames: 4 };
    const a = await generateVideo(model, request);
    const b = await generateVideo(model, request);
    const c = await generateVideo(model, { ...request, seed: 12 });
    expect(b.frames).toEqual(a.frames);
    expect(c.frames).not.toEqual(a.frames);
  });

  it('fills omitted fields from the manifest defaults (size, frames, steps, guidance)', async () => {
    const result = await generateVideo(model, { prompt: 'a red circle', seed: 3 });
    const d = TEST_VIDEO_MODEL.defaults;
    expect(result.request).toMatchObject({
      width: d.width,
      height: d.height,
      frames: d.frames,
      steps: d.steps,
      guidanceScale: d.guidance_scale,
    });
    expect(result.frames).toHaveLength(d.frames);
  });

  it('image-to-video: the init image reaches cond_latents at frame 0 with cond_mask[0] = 1', async () => {
    const image = { width: 8, height: 8, data: testImage(8, 8) };
    const feeds = recordTransformer(model);
    const result = await generateVideo(model, {
      prompt: 'a red circle',
      seed: 5,
      steps: 3,
      guidanceScale: 2,
      frames: 6,
      initImage: image,
    });
    vi.restoreAllMocks();
    expect(result.request.mode).toBe('image_to_video');
    const latent0 = encodedFrame(image.data, 8, 8);
    // Every run: the CFG batch of 2 rows, both with frame 0 given.
    expect(feeds).toHaveLength(3);
    for (const f of feeds) {
      expect(f.cond_mask?.dims).toEqual([2, 6]);
      expect([...(f.cond_mask?.data ?? [])]).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
      expect(f.cond_latents?.dims).toEqual([2, 16, 6, 4, 4]);
    }
    const cond = feeds[0]?.cond_latents?.data as Float32Array;
    const per = 16 * 6 * 16;
    for (let k = 0; k < 16; k++) {
      // Channel k, frame 0 of both rows is the encoded image; frame 1 stays zero.
      for (const row of [0, 1]) {
        const at = row * per + k * 6 * 16;
        expect([...cond.subarray(at, at + 16)].map((z) => Math.round(z * 1e4))).toEqual(
          (latent0[k] ?? []).map((z) => Math.round(z * 1e4)),
        );
        expect([...cond.subarray(at + 16, at + 32)].every((z) => z === 0)).toBe(true);
      }
    }
    const cText = guided(textConditioning(IDS['a red circle']), textConditioning(IDS['']), 2);
    const expected = expectedFrames({
      seed: 5,
      frames: 6,
      width: 8,
      height: 8,
      steps: 3,
      cText,
      given: new Map([[0, latent0]]),
    });
    expectFrames(result.frames, expected);
    // Without the init image the free frames differ: they saw the given latents (BETA term).
    const plain = await generateVideo(model, {
      prompt: 'a red circle',
      seed: 5,
      steps: 3,
      guidanceScale: 2,
      frames: 6,
    });
    expect(
      maxAbsDiff(plain.frames[3] ?? new Uint8Array(), result.frames[3] ?? new Uint8Array()),
    ).toBeGreaterThan(1);
  });

  it('fits an init image of another size: scaled to cover and centre-cropped', async () => {
    // 16×8 → scale 1 covers the 8-high clip; the middle 8 columns survive.
    const wide = testImage(16, 8);
    const middle = new Uint8Array(8 * 8 * 3);
    for (let y = 0; y < 8; y++)
      middle.set(wide.subarray((y * 16 + 4) * 3, (y * 16 + 12) * 3), y * 24);
    const request = { prompt: 'blue square', seed: 9, steps: 2, frames: 4 };
    const fitted = await generateVideo(model, {
      ...request,
      initImage: { width: 16, height: 8, data: wide },
    });
    const cropped = await generateVideo(model, {
      ...request,
      initImage: { width: 8, height: 8, data: middle },
    });
    expect(fitted.frames).toEqual(cropped.frames);
  });

  it('extend: the last K frames of the previous clip are given at 0..K−1; the result is frames K..F−1', async () => {
    const first = await generateVideo(model, {
      prompt: 'a red circle',
      seed: 21,
      steps: 3,
      frames: 6,
    });
    const feeds = recordTransformer(model);
    const next = await generateVideo(model, {
      prompt: 'a red circle',
      seed: 22,
      steps: 3,
      guidanceScale: 2,
      frames: 8,
      extendFrom: first.frames,
    });
    vi.restoreAllMocks();
    expect(next.request).toMatchObject({ mode: 'extend', frames: 8 });
    expect(next.frames).toHaveLength(8 - K);
    const mask = [...(feeds[0]?.cond_mask?.data ?? [])];
    expect(mask.slice(0, 8)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    const given = new Map(
      first.frames.slice(-K).map((frame, t) => [t, encodedFrame(frame, 8, 8)] as const),
    );
    const cText = guided(textConditioning(IDS['a red circle']), textConditioning(IDS['']), 2);
    const all = expectedFrames({
      seed: 22,
      frames: 8,
      width: 8,
      height: 8,
      steps: 3,
      cText,
      given,
    });
    expectFrames(next.frames, all.slice(K));
  });
});

describe('generateVideos(): batches', () => {
  it('runs clips of one shape as one CFG batch [cond…, uncond…] with the same conditioning in both halves', async () => {
    const image = { width: 8, height: 8, data: testImage(8, 8) };
    const requests = [
      { prompt: 'a red circle', seed: 1, steps: 2, guidanceScale: 2, frames: 4, initImage: image },
      { prompt: 'blue square', seed: 2, steps: 2, guidanceScale: 4, frames: 4 },
    ];
    const feeds = recordTransformer(model);
    const batch = await generateVideos(model, requests);
    vi.restoreAllMocks();
    expect(feeds).toHaveLength(2);
    const f = feeds[0] ?? {};
    expect(f.hidden_states?.dims).toEqual([4, 16, 4, 4, 4]);
    expect(f.encoder_hidden_states?.dims).toEqual([4, 8, 16]);
    // Rows 0, 1: the prompts; rows 2, 3: the empty prompt (ids·W, W[0] = 0.3).
    const hidden = f.encoder_hidden_states?.data as Float32Array;
    const firstIds = (row: number) =>
      [0, 1, 2, 3].map((l) => Math.round((hidden[(row * 8 + l) * 16] ?? 0) / 0.3));
    expect(firstIds(0)).toEqual(IDS['a red circle'].slice(0, 4));
    expect(firstIds(1)).toEqual(IDS['blue square'].slice(0, 4));
    expect(firstIds(2)).toEqual(IDS[''].slice(0, 4));
    expect(firstIds(3)).toEqual(IDS[''].slice(0, 4));
    expect([...(f.cond_mask?.data ?? [])]).toEqual([
      1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
    ]);
    const cond = f.cond_latents?.data as Float32Array;
    const per = 16 * 4 * 16;
    expect(cond.subarray(2 * per, 4 * per)).toEqual(cond.subarray(0, 2 * per));
    expect([...(f.hidden_states?.data.subarray(2 * per) ?? [])]).toEqual([
      ...(f.hidden_states?.data.subarray(0, 2 * per) ?? []),
    ]);
    // Each clip is what it is alone, with its own seed and guidance.
    for (const [i, request] of requests.entries()) {
      const alone: VideoResult = await generateVideo(model, request);
      expect(batch[i]?.frames).toEqual(alone.frames);
      expect(batch[i]?.seed).toBe(request.seed);
    }
  });

  it('skips the uncond half when every clip has guidance 1', async () => {
    const feeds = recordTransformer(model);
    await generateVideos(model, [
      { prompt: 'a red circle', seed: 1, steps: 1, guidanceScale: 1, frames: 4 },
      { prompt: 'blue square', seed: 2, steps: 1, guidanceScale: 1, frames: 4 },
    ]);
    vi.restoreAllMocks();
    expect(feeds[0]?.hidden_states?.dims).toEqual([2, 16, 4, 4, 4]);
  });

  it('runs clips of other shapes as their own batches, progress over all of them', async () => {
    const progress: [number, number][] = [];
    const results = await generateVideos(
      model,
      [
        { prompt: 'a red circle', seed: 1, steps: 2, frames: 4 },
        { prompt: 'a red circle', seed: 1, steps: 3, frames: 6, width: 12, height: 8 },
      ],
      { onProgress: (step, total) => progress.push([step, total]) },
    );
    expect(progress).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ]);
    expect(results.map((r) => [r.frames.length, r.width, r.height])).toEqual([
      [4, 8, 8],
      [6, 12, 8],
    ]);
  });
});

describe('progress and cancellation', () => {
  it('reports (step, total, elapsed) after every step', async () => {
    const calls: number[][] = [];
    await generateVideo(model, {
      prompt: 'a red circle',
      seed: 1,
      steps: 3,
      frames: 4,
      onProgress: (step, total, elapsed) => calls.push([step, total, elapsed]),
    });
    expect(calls.map(([s, t]) => [s, t])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(calls.every(([, , ms]) => (ms ?? -1) >= 0)).toBe(true);
  });

  it('stops at the next step boundary when the signal fires during a step', async () => {
    const controller = new AbortController();
    const run = model.transformer.run.bind(model.transformer);
    let runs = 0;
    vi.spyOn(model.transformer, 'run').mockImplementation((f, s) => {
      runs += 1;
      if (runs === 2) controller.abort(new Error('user canceled'));
      return run(f, s);
    });
    const steps: number[] = [];
    const result = generateVideo(model, {
      prompt: 'a red circle',
      seed: 1,
      steps: 5,
      frames: 4,
      signal: controller.signal,
      onProgress: (step) => steps.push(step),
    });
    await expect(result).rejects.toBeInstanceOf(GenerationCanceledError);
    await expect(result).rejects.toThrow('canceled after 2 of 5 steps');
    vi.restoreAllMocks();
    // The step in flight finished; no further one started.
    expect(runs).toBe(2);
    expect(steps).toEqual([1, 2]);
  });

  it('does no work for a signal that has already fired', async () => {
    const feeds = recordTransformer(model);
    const result = generateVideo(model, {
      prompt: 'a red circle',
      frames: 4,
      signal: AbortSignal.abort(),
    });
    await expect(result).rejects.toBeInstanceOf(GenerationCanceledError);
    vi.restoreAllMocks();
    expect(feeds).toHaveLength(0);
  });
});

describe('videoLimits()', () => {
  it('gives the frames range, fps, flags and sizes of the manifest', () => {
    expect(videoLimits(model)).toEqual(TEST_VIDEO_LIMITS);
  });
});
