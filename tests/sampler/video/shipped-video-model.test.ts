import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateVideos,
  loadVideoModel,
  videoLimits,
  type VideoModel,
} from '../../../gpu-worker/src/sampler/video/index.ts';
import { redCentroid } from '../../../scripts/red-centroid.ts';

/**
 * The video model the repository ships (models/shapes-video-s), on the CPU: what its manifest
 * promises, and that its direction words steer the motion. It is a preview (its card: MotionEval
 * 0.33 against 0.90), so this checks the one thing its probe shows it does, on captions as simple
 * as the probe's (scripts/video-direction-probe.ts): CPU sampling is deterministic for a seed, and
 * the asked moves are 40–78 px, far beyond any rounding.
 */
const DIR = join(import.meta.dirname, '..', '..', '..', 'models', 'shapes-video-s');
let model: VideoModel;

beforeAll(async () => {
  model = await loadVideoModel(DIR, { device: 'cpu' });
});

afterAll(async () => {
  await model.release();
});

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe('the shipped video model (models/shapes-video-s)', () => {
  it('fits the 25 MB limit and states its frame counts, fps and conditioning', async () => {
    expect(await folderBytes(DIR)).toBeLessThan(25e6);
    const limits = videoLimits(model);
    expect(limits.frames).toEqual({ min: 8, max: 24, multipleOf: 2 });
    expect(limits.defaultFrames).toBe(16);
    expect(limits.fps).toBe(8);
    expect(limits.imageToVideo).toBe(true);
    expect(limits.extend).toBe(true);
  });

  it('moves a red circle the way the caption says, for each of the four directions', async () => {
    const directions = { left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1] } as const;
    const clips = await generateVideos(
      model,
      Object.keys(directions).map((d) => ({ prompt: `a red circle moving ${d}`, seed: 1 })),
    );
    Object.values(directions).forEach(([sx, sy], i) => {
      const frames = clips[i]?.frames ?? [];
      expect(frames).toHaveLength(16);
      const first = redCentroid(frames[0] ?? new Uint8Array(), 128);
      const last = redCentroid(frames[15] ?? new Uint8Array(), 128);
      expect(first).not.toBeNull();
      expect(last).not.toBeNull();
      const dx = (last?.[0] ?? 0) - (first?.[0] ?? 0);
      const dy = (last?.[1] ?? 0) - (first?.[1] ?? 0);
      const along = dx * sx + dy * sy;
      const across = Math.abs(sx ? dy : dx);
      // At least 0.2 of the frame along the asked axis, and more along it than across it.
      expect(along).toBeGreaterThan(0.2 * 128);
      expect(along).toBeGreaterThan(2 * across);
    });
  });
});
