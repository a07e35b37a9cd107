import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelMetadataFiles } from '../../infra/model-files.ts';
import { propsFromContext } from '../../infra/context.ts';
import { REPO } from './helpers.ts';

/** Files under `root`, relative to it, with forward slashes. */
const files = (root: string, dir = root): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? files(root, path)
      : [relative(root, path).split('\\').join('/')];
  });

describe('npx cdk synth (the pinned CLI, local esbuild bundling, no Docker, no AWS)', () => {
  let out: string;
  let run: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'ditserve-synth-'));
    run = spawnSync('npx', ['--no-install', 'cdk', 'synth', '--quiet', '--output', out], {
      cwd: REPO,
      encoding: 'utf8',
      // No credentials, no Docker: synth must not need them.
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: '',
        AWS_PROFILE: '',
        DOCKER_HOST: 'unix:///nonexistent',
      },
      timeout: 120_000,
    });
  }, 130_000);
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('succeeds (cdk-nag runs inside it as a validation plugin)', () => {
    expect(run.status, `${String(run.stdout)}\n${String(run.stderr)}`).toBe(0);
    expect(existsSync(join(out, 'Ditserve.template.json'))).toBe(true);
  });

  it('uses aws-cdk 2.1148.x (3.0.0 is deprecated and breaks with aws-cdk-lib 2.276)', () => {
    const cli = JSON.parse(
      readFileSync(join(REPO, 'node_modules/aws-cdk/package.json'), 'utf8'),
    ) as { version: string };
    expect(cli.version).toMatch(/^2\.1148\./);
  });

  it('bundles each Lambda into one small minified ES module with a source map', () => {
    const template = JSON.parse(readFileSync(join(out, 'Ditserve.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const fns = Object.entries(template.Resources).filter(
      ([id, r]) =>
        r.Type === 'AWS::Lambda::Function' && /^(Api|WebhookDispatcher)Function/.test(id),
    );
    expect(fns).toHaveLength(2);
    for (const [id, fn] of fns) {
      const key = (fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const asset = join(out, `asset.${key}`);
      const bundle = join(asset, 'index.mjs');
      expect(existsSync(bundle), id).toBe(true);
      expect(existsSync(`${bundle}.map`), id).toBe(true);
      const size = statSync(bundle).size;
      expect(size, `${id} bundle size`).toBeLessThan(2 * 1024 * 1024);
      const code = readFileSync(bundle, 'utf8');
      expect(code.split('\n').length, `${id} is minified`).toBeLessThan(200);
      expect(
        files(asset).some((f) => f.endsWith('.onnx') || f.endsWith('.node')),
        id,
      ).toBe(false);
    }
  });

  it('the API asset carries the models’ JSON files and no ONNX graph', () => {
    const apiAsset = readdirSync(out)
      .map((d) => join(out, d))
      .find((d) => existsSync(join(d, 'models')));
    expect(apiAsset).toBeDefined();
    expect(readdirSync(join(apiAsset ?? '', 'models')).sort()).toEqual([
      'shapes-mmdit-s',
      'shapes-video-s',
    ]);
    const video = files(join(apiAsset ?? '', 'models/shapes-video-s')).sort();
    expect(video).toEqual(modelMetadataFiles(join(REPO, 'models/shapes-video-s')).sort());
    const inAsset = files(join(apiAsset ?? '', 'models/shapes-mmdit-s')).sort();
    expect(inAsset).toEqual(modelMetadataFiles(join(REPO, 'models/shapes-mmdit-s')).sort());
    expect(inAsset).toEqual(
      expect.arrayContaining([
        'model_index.json',
        'tokenizer/tokenizer.json',
        'transformer/config.json',
      ]),
    );
  });
});

describe('propsFromContext', () => {
  it('parses -c values (strings) into typed props and drops unset ones', () => {
    const ctx: Record<string, string> = {
      instanceType: 'g6.xlarge',
      spot: 'true',
      minTasks: '1',
      maxTasks: '6',
      spotInstanceTypes: 'g6.xlarge, g5.xlarge',
      outputRetentionDays: '3',
    };
    expect(propsFromContext((k) => ctx[k])).toEqual({
      instanceType: 'g6.xlarge',
      spot: true,
      minTasks: 1,
      maxTasks: 6,
      spotInstanceTypes: ['g6.xlarge', 'g5.xlarge'],
      outputRetentionDays: 3,
    });
  });

  it('rejects malformed values', () => {
    expect(() => propsFromContext((k) => (k === 'maxTasks' ? 'many' : undefined))).toThrow(
      /maxTasks/,
    );
    expect(() => propsFromContext((k) => (k === 'spot' ? 'maybe' : undefined))).toThrow(/spot/);
  });
});
