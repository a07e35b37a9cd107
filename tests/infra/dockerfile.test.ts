import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.ts';

/**
 * `docker build` cannot run on the build machines, so the worker's Dockerfile is checked by
 * parsing it (dockerfile-ast, the parser of the VS Code Docker language server).
 */
const source = readFileSync(join(REPO, 'gpu-worker/Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(source);
const instructions = dockerfile.getInstructions();

/** Global ARG defaults (before the first FROM), to resolve `${X}` in FROM and COPY. */
const globalArgs = new Map<string, string>();
for (const i of instructions) {
  if (i.getKeyword() === 'FROM') break;
  if (i.getKeyword() === 'ARG') {
    const [name, value] = (i.getArgumentsContent() ?? '').split('=', 2);
    if (name && value !== undefined) globalArgs.set(name, value);
  }
}
const resolve = (s: string) =>
  s.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => {
    const name = a ?? b ?? '';
    return globalArgs.get(name) ?? m;
  });

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}
const stages: Stage[] = [];
for (const i of instructions) {
  if (i.getKeyword() === 'FROM') {
    const args = i.getArguments().map((a) => a.getValue());
    const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
    stages.push({
      name: asIndex >= 0 ? (args[asIndex + 1] ?? '') : '',
      image: resolve(args[0] ?? ''),
      instructions: [],
    });
  } else {
    stages.at(-1)?.instructions.push(i);
  }
}
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const flagsOf = (i: Instruction): Map<string, string | null> => {
  const withFlags = i as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  return new Map((withFlags.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue()]));
};
const runtime = () => stage('runtime');
const last = (name: string) =>
  runtime()
    .instructions.filter((i) => i.getKeyword() === name)
    .at(-1);

describe('gpu-worker/Dockerfile', () => {
  it('parses without syntax problems', () => {
    expect(instructions.length).toBeGreaterThan(20);
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'ops', 'node', 'runtime']);
  });

  it('is multi-stage: npm build stages on Node 20, the runtime on NVIDIA CUDA with cuDNN', () => {
    for (const name of ['build', 'deps', 'node']) {
      expect(stage(name).image).toMatch(/^node:20[.-]/);
    }
    // The last stage is the image that ships.
    expect(stages.at(-1)?.name).toBe('runtime');
    expect(runtime().image).toMatch(/^nvidia\/cuda:12\.\d+(\.\d+)?-cudnn[0-9]*-runtime-ubuntu/);
  });

  it('build stage runs npm ci and bundles the worker and sampler-thread entries with onnxruntime-node and sharp external', () => {
    const runs = stage('build')
      .instructions.filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    const esbuild = runs.find((r) => r.includes('esbuild'));
    expect(esbuild).toBeDefined();
    expect(esbuild).toContain('gpu-worker/src/worker/main.ts');
    // The thread sampler starts sampler-thread.mjs from next to main.mjs (thread-sampler.ts).
    expect(esbuild).toContain('gpu-worker/src/worker/sampler-thread.ts');
    expect(esbuild).toContain('--format=esm');
    expect(esbuild).toContain('--outdir=dist/worker');
    expect(esbuild).toContain('--out-extension:.js=.mjs');
    expect(esbuild).toContain('--external:onnxruntime-node');
    expect(esbuild).toContain('--external:sharp');
    expect(esbuild).toMatch(/createRequire/);
    expect(existsSync(join(REPO, 'gpu-worker/src/worker/main.ts'))).toBe(true);
    expect(existsSync(join(REPO, 'gpu-worker/src/worker/sampler-thread.ts'))).toBe(true);
  });

  it('installs onnxruntime-node@1.29.0 exactly, with its CUDA 12 execution provider', () => {
    const deps = stage('deps').instructions.map(
      (i) => `${i.getKeyword()} ${i.getArgumentsContent() ?? ''}`,
    );
    expect(deps.join('\n')).toMatch(/ENV ONNXRUNTIME_NODE_INSTALL=cuda12/);
    expect(deps.join('\n')).toMatch(/onnxruntime-node@1\.29\.0\b/);
    expect(deps.join('\n')).toContain('libonnxruntime_providers_cuda.so');
    // The version the project pins, so the image runs what the tests ran.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['onnxruntime-node']).toBe('1.29.0');
  });

  it('installs koffi (the native runner) and sharp at the lockfile’s versions', () => {
    const deps = stage('deps')
      .instructions.map((i) => i.getArgumentsContent() ?? '')
      .join('\n');
    expect(deps).toContain('"koffi@${KOFFI_VERSION}"');
    expect(deps).toContain('"sharp@${SHARP_VERSION}"');
    expect(deps).toMatch(/KOFFI_VERSION="\$\(lock koffi\)"/);
  });

  it('builds the custom-op library with nvcc on the runtime’s CUDA, for Ampere to Hopper', () => {
    const ops = stage('ops');
    // The devel image of the very CUDA the runtime has (its cuBLASLt is what the library links).
    expect(ops.image).toBe(runtime().image.replace('-runtime-', '-devel-'));
    const runs = ops.instructions
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '')
      .join('\n');
    expect(runs).toMatch(/CUDA_ARCHS="80 89 90" bash \/src\/ops\/build\.sh cuda \/ops/);
    expect(runs).toContain('test -f /ops/libditserve_ops_cuda.so');
    expect(existsSync(join(REPO, 'gpu-worker/ops/build.sh'))).toBe(true);
  });

  it('runtime: Node 20 binary, node_modules, the bundle and the model folders', () => {
    const copies = runtime()
      .instructions.filter((i) => i.getKeyword() === 'COPY')
      .map((i) => ({
        from: flagsOf(i).get('from'),
        args: i.getArguments().map((a) => a.getValue()),
      }));
    expect(copies).toEqual(
      expect.arrayContaining([
        { from: 'node', args: ['/usr/local/bin/node', '/usr/local/bin/node'] },
        { from: 'deps', args: ['/deps/node_modules', './node_modules'] },
        { from: 'build', args: ['/src/dist/worker', './dist/worker'] },
        { from: 'ops', args: ['/ops', './ops'] },
        { from: undefined, args: ['models', './models'] },
      ]),
    );
    const env = runtime()
      .instructions.filter((i) => i.getKeyword() === 'ENV')
      .map((i) => i.getArgumentsContent() ?? '')
      .join(' ');
    // Unset in the image: the settings table's default (the shipped models, relative to /app);
    // the stack sets it from its `models` prop.
    expect(env).not.toMatch(/DITSERVE_MODEL_DIRS/);
    expect(env).toMatch(/DITSERVE_DEVICE=cuda/);
    expect(env).toMatch(/DITSERVE_OPS_DIR=\/app\/ops/);
    expect(
      runtime()
        .instructions.find((i) => i.getKeyword() === 'WORKDIR')
        ?.getArgumentsContent(),
    ).toBe('/app');
  });

  it('runs as a non-root user', () => {
    const user = last('USER')?.getArgumentsContent();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const runs = runtime()
      .instructions.filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.getArgumentsContent() ?? '')
      .join('\n');
    expect(runs).toContain(`useradd`);
    expect(runs).toContain(user ?? '?');
  });

  it('has a HEALTHCHECK on /healthz and starts node dist/worker/main.mjs', () => {
    const health = last('HEALTHCHECK');
    expect(health && flagsOf(health).get('start-period')).toMatch(/^\d+s$/);
    expect(health?.getArgumentsContent()).toContain('/healthz');
    expect(health?.getArgumentsContent()).toContain('8081');
    const cmd = JSON.parse(last('CMD')?.getArgumentsContent() ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe('dist/worker/main.mjs');
    expect(last('STOPSIGNAL')?.getArgumentsContent()).toBe('SIGTERM');
  });

  it('every COPY from the build context exists in the repository and passes .dockerignore', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*'); // allow-list: only what is named below goes to the daemon
    const allowed = ignore
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/$/, ''));
    const contextSources = stages
      .flatMap((s) => s.instructions)
      .filter((i) => ['COPY', 'ADD'].includes(i.getKeyword()) && !flagsOf(i).has('from'))
      .flatMap((i) =>
        i
          .getArguments()
          .map((a) => a.getValue())
          .slice(0, -1),
      )
      .map(resolve);
    expect(contextSources.length).toBeGreaterThanOrEqual(6);
    for (const src of contextSources) {
      expect(existsSync(join(REPO, src)), `${src} exists`).toBe(true);
      expect(
        allowed.some((a) => src === a || src.startsWith(`${a}/`)),
        `${src} is let through by .dockerignore`,
      ).toBe(true);
    }
    // The model's training artefacts stay out of the image.
    expect(ignore).toContain('models/*/training/');
  });

  it('its health check and stop signal match the task definition’s', async () => {
    const { healthCheckCommand, ECS_MAX_STOP_TIMEOUT_SECONDS } =
      await import('../../infra/constructs/gpu-worker.ts');
    expect(healthCheckCommand(8081).join(' ')).toContain('/healthz');
    const drain = /DITSERVE_DRAIN_SECONDS=(\d+)/.exec(source)?.[1];
    expect(Number(drain)).toBeLessThan(ECS_MAX_STOP_TIMEOUT_SECONDS);
  });
});
