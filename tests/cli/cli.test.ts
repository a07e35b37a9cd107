import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../../gpu-worker/src/sampler/png.ts';
import { ditserve } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeTestModel } from '../helpers/test-model.ts';

let dir: string;
let modelDir: string;

beforeAll(async () => {
  dir = await tempDir();
  modelDir = await writeTestModel(join(dir, 'model'));
});

describe('ditserve generate', () => {
  it('writes a PNG with metadata and prints a JSON result with --json', async () => {
    const out = join(dir, 'out', 'red.png');
    const run = await ditserve(
      'generate',
      'a red circle by a zebra',
      '-o',
      out,
      '--seed',
      '7',
      '--steps',
      '3',
      '--model',
      modelDir,
      '--guidance',
      '2.5',
      '--device',
      'cpu',
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      path: out,
      format: 'png',
      seed: 7,
      steps: 3,
      guidanceScale: 2.5,
      width: 8,
      height: 4,
      sampler: 'euler',
      model: { name: 'test-latents', version: '0.0.1', dir: modelDir },
      device: 'cpu',
      images: [{ path: out, seed: 7 }],
    });
    expect(report.warnings).toEqual([expect.stringContaining('zebra')]);
    expect(Object.keys(report.timings as object).sort()).toEqual([
      'encodeMs',
      'generateMs',
      'loadMs',
      'totalMs',
    ]);
    const png = await readFile(out);
    expect(report.bytes).toBe(png.length);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([8, 4]);
    expect(readPngText(png)).toMatchObject({
      prompt: 'a red circle by a zebra',
      negative_prompt: '',
      seed: '7',
      steps: '3',
      guidance_scale: '2.5',
      sampler: 'euler',
      model: 'test-latents@0.0.1',
    });
  });

  it('takes the format from the extension and reports on stderr without --json', async () => {
    const out = join(dir, 'blue.webp');
    const run = await ditserve(
      'generate',
      'blue',
      'square',
      '-o',
      out,
      '--model',
      modelDir,
      '--device',
      'cpu',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^wrote ${out} \\(8x4, seed \\d+, 4 euler steps`));
    expect((await readFile(out)).subarray(8, 12).toString('latin1')).toBe('WEBP');
  });

  it.each([
    [['--steps', 'abc'], 'ditserve: --steps (steps): '],
    [['--sampler', 'ddim'], 'ditserve: --sampler (sampler): '],
    [['--threads', '0'], '--threads must be an integer ≥ 1, got "0"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['-o', 'x.gif'], 'cannot tell the image format from ".gif"'],
    [['--size', '12x8', '--width', '4'], 'use either --size or --width/--height, not both'],
  ])('exits 2 with a one-line message for a usage error (%s)', async (args, message) => {
    const run = await ditserve('generate', 'a red circle', '--model', modelDir, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 when the request does not fit the model', async () => {
    const run = await ditserve(
      'generate',
      'a red circle',
      '--model',
      modelDir,
      '--size',
      '12x8',
      '--device',
      'cpu',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'ditserve: --width (or --size) (width): 12x8 is not a size model test-latents was trained ' +
        'for; allowed: one of 8x4, 4x4\n',
    );
  });

  it('gives the same bytes through the native runner (--runner native) as through the stock one', async () => {
    const files = await Promise.all(
      ['stock', 'native'].map(async (runner) => {
        const out = join(dir, `runner-${runner}.png`);
        const run = await ditserve(
          'generate',
          'a red circle',
          '-o',
          out,
          '--seed',
          '5',
          '--steps',
          '3',
          '--model',
          modelDir,
          '--device',
          'cpu',
          '--runner',
          runner,
        );
        expect(run.code).toBe(0);
        return readFile(out);
      }),
    );
    expect(files[1]?.equals(files[0] ?? Buffer.alloc(0))).toBe(true);
  });

  it('exits 1 naming the folder when the model is missing, with a JSON error under --json', async () => {
    const missing = join(dir, 'nowhere');
    const run = await ditserve('generate', 'a red circle', '--model', missing, '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`ditserve: model folder not found: ${missing}\n`);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'model_not_found', message: `model folder not found: ${missing}` },
    });
  });
});

describe('ditserve', () => {
  it('exits 2 for a missing prompt or an unknown command', async () => {
    const missing = await ditserve('generate');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing prompt');
    const unknown = await ditserve('paint');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "paint"');
  });
});
