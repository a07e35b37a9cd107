import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationCanceledError } from '../../../gpu-worker/src/sampler/errors.ts';
import {
  generateVideos,
  loadVideoModel,
  type VideoModel,
} from '../../../gpu-worker/src/sampler/video/index.ts';

/**
 * The shipped video model's step graph (transformer/step.onnx: the video transformer with its
 * given-frame inputs + guidance + Euler update, fused) on the CPU: the clips it makes against the
 * transformer-only path (guidance and Euler in JS), for text-to-video and image-to-video, and
 * clips of concurrent calls sharing its steps.
 */
const DIR = join(import.meta.dirname, '..', '..', '..', 'models', 'shapes-video-s');
const CLIP = { frames: 8, steps: 4 };

let stepped: VideoModel;
let plain: VideoModel;

beforeAll(async () => {
  stepped = await loadVideoModel(DIR, { device: 'cpu', threads: 2 });
  plain = await loadVideoModel(DIR, { device: 'cpu', threads: 2, stepGraph: false });
});

afterAll(async () => {
  await stepped.release();
  await plain.release();
});

/** The largest difference of two clips' pixels, frame by frame. */
function maxDiff(a: readonly Uint8Array[], b: readonly Uint8Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((frame, t) => {
    const other = b[t] ?? new Uint8Array(0);
    expect(frame.length).toBe(other.length);
    for (let i = 0; i < frame.length; i++) {
      worst = Math.max(worst, Math.abs((frame[i] ?? 0) - (other[i] ?? 0)));
    }
  });
  return worst;
}

describe('the video step graph', () => {
  it('is what the model steps Euler clips through, by default', () => {
    expect(stepped.stepping?.engine).toBe('host (stock runner)');
    expect(plain.stepping).toBeNull();
  });

  it('makes the transformer path’s clips, with different guidance in one batch', async () => {
    const requests = [
      { prompt: 'a red circle moving left', seed: 3, guidanceScale: 4.5, ...CLIP },
      { prompt: 'a blue square moving down', seed: 4, guidanceScale: 1, ...CLIP },
    ];
    const before = stepped.stepping?.loop([16, 8, 16, 16]).stats.runs ?? 0;
    const mine = await generateVideos(stepped, requests);
    const theirs = await generateVideos(plain, requests);
    // One run of the step graph a step moved both clips.
    expect((stepped.stepping?.loop([16, 8, 16, 16]).stats.runs ?? 0) - before).toBe(CLIP.steps);
    for (const [s, clip] of mine.entries()) {
      expect(clip.frames).toHaveLength(CLIP.frames);
      // fp32 on both sides; the fused graph's ops round differently by ~1e-6.
      expect(maxDiff(clip.frames, theirs[s]?.frames ?? [])).toBeLessThanOrEqual(2);
    }
  });

  it('follows the transformer path with a given first frame (image-to-video)', async () => {
    // A red disc on white, as uint8 RGB.
    const data = new Uint8Array(128 * 128 * 3).fill(255);
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        if ((x - 40) ** 2 + (y - 64) ** 2 > 18 ** 2) continue;
        data.set([255, 0, 0], (y * 128 + x) * 3);
      }
    }
    const still = { width: 128, height: 128, data };
    const request = {
      prompt: 'a red circle moving right',
      seed: 5,
      initImage: still,
      ...CLIP,
    };
    const [mine] = await generateVideos(stepped, [request]);
    const [theirs] = await generateVideos(plain, [request]);
    expect(maxDiff(mine?.frames ?? [], theirs?.frames ?? [])).toBeLessThanOrEqual(2);
  });

  it('shares its steps between concurrent calls, and a cancel ends only its own clip', async () => {
    const loop = stepped.stepping?.loop([16, 8, 16, 16]);
    const before = loop?.stats ?? { runs: 0, sampleSteps: 0 };
    const controller = new AbortController();
    let startSecond: () => void = () => undefined;
    // The second call starts once the first is in the loop, and cancels it once it has made a
    // step itself: at least that step ran both clips, and the first never finishes its 48.
    const second = new Promise<Awaited<ReturnType<typeof generateVideos>>>((resolve, reject) => {
      startSecond = () => {
        generateVideos(stepped, [{ prompt: 'a red circle moving up', seed: 9, ...CLIP }], {
          onProgress: (done) => {
            if (done === 1) controller.abort();
          },
        }).then(resolve, reject);
      };
    });
    const first = generateVideos(
      stepped,
      [{ prompt: 'a green star', seed: 8, frames: 8, steps: 48 }],
      {
        signal: controller.signal,
        onProgress: (done) => {
          if (done === 1) startSecond();
        },
      },
    );
    await expect(first).rejects.toBeInstanceOf(GenerationCanceledError);
    const [clip] = await second;
    expect(clip?.frames).toHaveLength(CLIP.frames);
    const after = loop?.stats ?? { runs: 0, sampleSteps: 0 };
    // Fewer runs than sample-steps: the two calls' clips shared runs.
    expect(after.sampleSteps - before.sampleSteps).toBeGreaterThan(after.runs - before.runs);
  });
});
