import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h264Encoder } from '../../gpu-worker/src/media/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('h264Encoder', () => {
  it('finds ffmpeg with libx264 on PATH (.ci/run installs Debian’s)', async () => {
    expect(await h264Encoder()).toEqual({ available: true, ffmpeg: 'ffmpeg' });
  });

  it('asks once per executable', () => {
    expect(h264Encoder('ffmpeg')).toBe(h264Encoder('ffmpeg'));
  });

  it('answers with a note, never a failure, where ffmpeg is missing', async () => {
    const encoder = await h264Encoder('/nonexistent/ffmpeg');
    expect(encoder.available).toBe(false);
    if (encoder.available) return;
    expect(encoder.note).toMatch(
      /^MP4 left out: no ffmpeg here \("\/nonexistent\/ffmpeg" not found\)/,
    );
    expect(encoder.note).toMatch(/DITSERVE_FFMPEG/);
    expect(encoder.note).toMatch(/animated WebP/);
  });

  it('tells an ffmpeg without libx264 apart (libx264rgb alone does not count)', async () => {
    // The real ffmpeg's encoder list without its libx264 line.
    const stripped = join(await tempDir('ditserve-ffmpeg-no-x264-'), 'ffmpeg');
    await writeFile(stripped, '#!/bin/sh\nffmpeg "$@" | grep -v "^ *V[^ ]* *libx264 "\n');
    await chmod(stripped, 0o755);
    const encoder = await h264Encoder(stripped);
    expect(encoder.available).toBe(false);
    if (encoder.available) return;
    expect(encoder.note).toMatch(/built without libx264/);
  });
});
