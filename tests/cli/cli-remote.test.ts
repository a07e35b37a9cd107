import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedded } from '../../functions/local/embedded.ts';
import { Ditserve } from '../../sdk/client/index.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { ditserve, ditserveWith } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('ditserve against a running ditserve (--base-url)', () => {
  let working: Embedded;
  let idle: Embedded; // no worker: its jobs stay queued until canceled

  beforeAll(async () => {
    [working, idle] = await Promise.all([startTestStack(), startTestStack({ workers: 0 })]);
    await working.ready;
  });

  afterAll(async () => {
    await Promise.all([working.stop(5_000), idle.stop(5_000)]);
  });

  it('generates remotely, downloads every image into --out-dir and reports them as JSON', async () => {
    const outDir = await tempDir();
    const run = await ditserve(
      'generate',
      'a red circle',
      '--base-url',
      working.url,
      '--steps',
      '2',
      '--seed',
      '40',
      '--n',
      '2',
      '--out-dir',
      outDir,
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      id: string;
      images: { path: string; seed: number; bytes: number }[];
      steps: number;
      device: string;
    };
    expect(report).toMatchObject({ steps: 2, device: 'remote' });
    expect(report.images.map((i) => i.seed)).toEqual([40, 41]);
    expect((await readdir(outDir)).sort()).toEqual(['ditserve-40.png', 'ditserve-41.png']);
    for (const image of report.images) {
      const png = await readFile(image.path);
      expect(png.length).toBe(image.bytes);
      expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    }

    const got = await ditserve('jobs', 'get', report.id, '--base-url', working.url, '--json');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ id: report.id, status: 'succeeded' });
    const listed = await ditserve('jobs', 'list', '--base-url', working.url);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(report.id);
  });

  it('gets the API’s refusal with its field and code, exit 2', async () => {
    const run = await ditserve(
      'generate',
      'a red circle',
      '--base-url',
      working.url,
      '--size',
      '256x256',
      '--json',
    );
    expect(run.code).toBe(2);
    const { error } = JSON.parse(run.stdout) as {
      error: { code: string; status: number; fields: { field: string }[] };
    };
    expect(error).toMatchObject({ code: 'invalid_request', status: 422 });
    expect(error.fields[0]?.field).toBe('width');
    expect(run.stderr).toContain('--width (or --size) (width)');
  });

  it('lists the models the server serves', async () => {
    const run = await ditserve('models', '--base-url', working.url, '--json');
    expect(run.code).toBe(0);
    const models = JSON.parse(run.stdout) as { id: string }[];
    expect(models.map((m) => m.id)).toEqual(['shapes-mmdit-s']);
    const text = await ditserve('models', '--base-url', working.url);
    expect(text.stdout).toMatch(/^shapes-mmdit-s@\S+ {2}sizes /);
  });

  it('cancels a queued job; watching it exits 3 (ended without images)', async () => {
    const client = new Ditserve({ baseUrl: idle.url });
    const queued = await client.submit({ prompt: 'a blue square' });
    const canceled = await ditserve('jobs', 'cancel', queued.id, '--base-url', idle.url, '--json');
    expect(canceled.code).toBe(0);
    expect(JSON.parse(canceled.stdout)).toMatchObject({ id: queued.id, status: 'canceled' });
    const watched = await ditserve('jobs', 'watch', queued.id, '--base-url', idle.url);
    expect(watched.code).toBe(3);
    expect(watched.stdout).toContain('canceled');
    expect(watched.stderr).toContain(`generation ${queued.id} canceled`);
  });

  it('reads the base URL from DITSERVE_BASE_URL and says so when nothing answers', async () => {
    const missing = await ditserve('jobs', 'get', 'gen_nothere', '--base-url', idle.url, '--json');
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { status: 404 } });
    // Only the variable names the working stack: the default address has nobody listening.
    const fromEnv = await ditserveWith({ env: { DITSERVE_BASE_URL: working.url } }, 'models');
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/^shapes-mmdit-s@/);
    const nobody = await ditserveWith(
      { env: { DITSERVE_BASE_URL: 'http://127.0.0.1:9' } },
      'models',
    );
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^ditserve: /);
    expect(nobody.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ditserve from any folder', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const run = await ditserve('--version');
    expect(run).toMatchObject({ code: 0, stdout: `ditserve ${pkg.version}\n` });
  });

  it('finds the shipped model outside the checkout and opens the image with --open', async () => {
    const cwd = await tempDir();
    // A stand-in for the desktop's opener that records what it was asked to open.
    const bin = await tempDir();
    const opened = join(bin, 'opened.txt');
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" >> "${opened}"\n`);
    await chmod(join(bin, 'xdg-open'), 0o755);
    const run = await ditserveWith(
      { cwd, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } },
      'generate',
      'a green triangle',
      '--steps',
      '2',
      '--seed',
      '3',
      '--device',
      'cpu',
      '--open',
    );
    expect(run.stderr).toContain(`wrote ${join(cwd, 'ditserve-3.png')}`);
    expect(run.code).toBe(0);
    // The opener runs detached: wait for its line rather than for the process.
    let lines = '';
    for (let i = 0; i < 100 && !lines; i++) {
      lines = await readFile(opened, 'utf8').catch(() => '');
      if (!lines) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lines.trim()).toBe(join(cwd, 'ditserve-3.png'));
  });

  it('explains the worker entry and refuses options it does not take', async () => {
    const help = await ditserve('worker', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('DITSERVE_JOBS_QUEUE_URL');
    const bad = await ditserve('worker', '--port', '1');
    expect(bad.code).toBe(2);
  });
});
