import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeMp4, VideoEncodeError } from '../../gpu-worker/src/media/index.ts';
import { EncoderUnavailableError } from '../../gpu-worker/src/sampler/errors.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { movingSquare, meanAbsDiff, squareLeftIn } from './moving-square.ts';
import { decodeFrames, ffprobe, topLevelBoxes } from './probe.ts';

const clip = movingSquare(64, 32, 12);
const format = { width: clip.width, height: clip.height, fps: 8 };
const parameters = { prompt: 'a yellow square moving right, ruß 青い', seed: '7', steps: '24' };

describe('encodeMp4 (ffmpeg + libx264)', () => {
  // os.tmpdir() follows TMPDIR: a folder of this file's own shows what ffmpeg's runs leave behind.
  let scratch: string;
  const savedTmp = process.env.TMPDIR;
  beforeEach(async () => {
    scratch = await tempDir('ditserve-mp4-scratch-');
    process.env.TMPDIR = scratch;
  });
  const leftBehind = async () =>
    (await readdir(scratch)).filter((name) => name.startsWith('ditserve-mp4-'));
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it('writes H.264 yuv420p with every frame at the asked rate, parameters in `comment`', async () => {
    const mp4 = await encodeMp4(clip.frames, { ...format, metadata: parameters });
    const probe = await ffprobe(mp4);
    expect(probe.streams).toHaveLength(1);
    const [video] = probe.streams;
    expect(video).toMatchObject({
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      width: 64,
      height: 32,
      r_frame_rate: '8/1',
      nb_read_frames: '12',
      color_space: 'bt709',
    });
    expect(Number(probe.format.duration)).toBeCloseTo(12 / 8, 2);
    expect(JSON.parse(probe.format.tags?.comment ?? 'null')).toEqual(parameters);
    expect(await leftBehind()).toEqual([]);
  });

  it('puts the moov atom before the media data (+faststart)', async () => {
    const boxes = topLevelBoxes(await encodeMp4(clip.frames, format));
    expect(boxes[0]).toBe('ftyp');
    expect(boxes).toContain('mdat');
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
  });

  it('decodes back to the frames, in order, colours kept', async () => {
    const decoded = await decodeFrames(await encodeMp4(clip.frames, format), 64, 32);
    expect(decoded).toHaveLength(12);
    decoded.forEach((frame, i) => {
      expect(squareLeftIn(frame, 64, 3, clip.top + clip.side / 2), `frame ${i}`).toBe(clip.left(i));
      expect(meanAbsDiff(frame, clip.frames[i] ?? new Uint8Array()), `frame ${i}`).toBeLessThan(4);
    });
  });

  it('keeps a JSON string of parameters as it is', async () => {
    const json = JSON.stringify({ prompt: 'ünïcode ✓', guidance_scale: 4.5 });
    const probe = await ffprobe(await encodeMp4(clip.frames, { ...format, metadata: json }));
    expect(probe.format.tags?.comment).toBe(json);
  });

  it('refuses an odd size and frames of the wrong length before running ffmpeg', async () => {
    const odd = movingSquare(63, 32, 2);
    await expect(encodeMp4(odd.frames, { width: 63, height: 32, fps: 8 })).rejects.toThrow(
      /even size/,
    );
    await expect(
      encodeMp4([clip.frames[0] ?? new Uint8Array(), new Uint8Array(10)], format),
    ).rejects.toThrow(/frame 1: expected 64×32×3/);
    await expect(encodeMp4([], format)).rejects.toThrow(/at least one frame/);
  });

  it('turns an ffmpeg failure into a VideoEncodeError with the end of its stderr, and cleans up', async () => {
    // The real ffmpeg, handed an option it does not know: it fails as a broken build would.
    const broken = join(await tempDir('ditserve-broken-ffmpeg-'), 'ffmpeg');
    await writeFile(broken, '#!/bin/sh\nexec ffmpeg -no_such_option 1 "$@"\n');
    await chmod(broken, 0o755);
    const error = await encodeMp4(clip.frames, { ...format, ffmpeg: broken }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VideoEncodeError);
    const failure = error as VideoEncodeError;
    expect(failure.code).toBe('generation_failed');
    expect(failure.exitCode).not.toBe(0);
    expect(failure.stderrTail).toMatch(/no_such_option/);
    expect(failure.message).toMatch(/^ffmpeg exited with status \d+ while writing the MP4: \S/);
    expect(await leftBehind()).toEqual([]);
  });

  it('stops an ffmpeg that runs past its time', async () => {
    const error = await encodeMp4(clip.frames, { ...format, timeoutMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VideoEncodeError);
    expect((error as Error).message).toMatch(/^ffmpeg was stopped after 0.001 s while writing/);
    expect(await leftBehind()).toEqual([]);
  });

  it('refuses a CRF outside x264’s 0–51', async () => {
    await expect(encodeMp4(clip.frames, { ...format, crf: 99 })).rejects.toThrow(/crf/);
  });

  it('says that ffmpeg is missing where the executable does not exist', async () => {
    const error = await encodeMp4(clip.frames, {
      ...format,
      ffmpeg: '/nonexistent/ffmpeg',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncoderUnavailableError);
    expect((error as Error).message).toMatch(/DITSERVE_FFMPEG/);
    expect(await leftBehind()).toEqual([]);
  });
});
