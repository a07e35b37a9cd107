import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ditserve, ditserveWith } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { writeTestVideoModel } from '../../helpers/test-video-model.ts';

const run = promisify(execFile);

let dir: string;
let modelDir: string;

beforeAll(async () => {
  dir = await tempDir();
  modelDir = await writeTestVideoModel(join(dir, 'model'));
});

/** ffprobe's view of a file's first video stream and its container tags. */
async function probe(path: string): Promise<{
  streams: {
    codec_name: string;
    pix_fmt: string;
    width: number;
    height: number;
    nb_read_frames?: string;
    r_frame_rate: string;
  }[];
  format: { tags?: Record<string, string> };
}> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate:format_tags',
    '-of',
    'json',
    path,
  ]);
  return JSON.parse(stdout) as Awaited<ReturnType<typeof probe>>;
}

/** `generate <prompt> …rest` on the test model, 2 steps, seed 7, on the CPU. */
const args = (...rest: string[]) => [
  'generate',
  'a red circle moving left',
  ...rest,
  ...['--model', modelDir, '--device', 'cpu', '--steps', '2', '--seed', '7'],
];

describe('ditserve generate with a video model', () => {
  it('writes an H.264 MP4 with the parameters in its comment tag (--json report)', async () => {
    const out = join(dir, 'out.mp4');
    const result = await ditserve(...args('-o', out, '--frames', '8', '--guidance', '3', '--json'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      path: out,
      format: 'mp4',
      seed: 7,
      steps: 2,
      guidanceScale: 3,
      width: 8,
      height: 8,
      frames: 8,
      fps: 8,
      mode: 'text_to_video',
      model: { name: 'test-video', version: '0.0.1', dir: modelDir },
      device: 'cpu',
      clips: [{ path: out, seed: 7, frames: 8 }],
    });
    // "moving" is not in the test vocabulary.
    expect(report.warnings).toEqual([
      'model test-video does not know these words, which it will ignore: moving',
    ]);
    const info = await probe(out);
    expect(info.streams[0]).toMatchObject({
      codec_name: 'h264',
      pix_fmt: 'yuv420p',
      width: 8,
      height: 8,
      nb_read_frames: '8',
      r_frame_rate: '8/1',
    });
    const comment = JSON.parse(info.format.tags?.comment ?? '{}') as Record<string, string>;
    expect(comment).toMatchObject({
      prompt: 'a red circle moving left',
      seed: '7',
      steps: '2',
      guidance_scale: '3',
      model: 'test-video@0.0.1',
      frames: '8',
      fps: '8',
    });
    expect(report.bytes).toBe((await readFile(out)).length);
  });

  it('writes an animated WebP of the clip, image-to-video from --init-image, with a summary on stderr', async () => {
    const init = join(dir, 'init.png');
    const red = Buffer.alloc(16 * 8 * 3);
    for (let i = 0; i < 16 * 8; i++) red[i * 3] = 255;
    await writeFile(
      init,
      await sharp(red, { raw: { width: 16, height: 8, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const out = join(dir, 'out.webp');
    const result = await ditserve(...args('-o', out, '--init-image', init));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`wrote ${out} \\(8x8, 6 frames at 8 fps, seed 7, 2 euler steps\\)`),
    );
    const meta = await sharp(await readFile(out)).metadata();
    expect(meta).toMatchObject({ format: 'webp', pages: 6, width: 8, height: 8, loop: 0 });
    expect(meta.delay).toEqual(new Array(6).fill(125));
    // Frame 0 is the (red) init image.
    const { data } = await sharp(await readFile(out), { page: 0 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[1]).toBeLessThan(60);
  });

  it('asks for .webp when -o x.mp4 is wanted and there is no H.264 encoder', async () => {
    const result = await ditserveWith(
      { env: { DITSERVE_FFMPEG: join(dir, 'no-such-ffmpeg') } },
      ...args('-o', join(dir, 'none.mp4')),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cannot write MP4 here: MP4 left out: no ffmpeg here/);
    expect(result.stderr).toMatch(/Write an animated WebP instead \(-o <name>\.webp\)/);
  });

  it('refuses frames the model does not allow and image formats, naming what is allowed', async () => {
    const odd = await ditserve(...args('-o', join(dir, 'odd.webp'), '--frames', '7'));
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(
      /--frames \(frames\): model test-video cannot make a clip of 7 frames; allowed: 4–12 frames in steps of 2/,
    );
    const png = await ditserve(...args('-o', join(dir, 'x.png')));
    expect(png.code).toBe(2);
    expect(png.stderr).toMatch(/a video model writes \.mp4 or \.webp/);
  });
});
