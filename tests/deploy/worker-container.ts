import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { REPO } from '../infra/helpers.ts';

/**
 * The worker image without Docker: what gpu-worker/Dockerfile builds, read from the Dockerfile
 * itself so that the two cannot drift — the build stage's esbuild command (run here with the
 * output folder moved), the runtime stage's WORKDIR layout (dist/worker, node_modules,
 * models/<MODEL>), its ENV and its CMD.
 */
export interface WorkerImage {
  /** The image's WORKDIR on this machine (stands for /app). */
  readonly appDir: string;
  /** The image's own ENV (ECS puts the task definition's environment over it). */
  readonly imageEnv: Record<string, string>;
  /** CMD, e.g. node --enable-source-maps dist/worker/main.mjs. */
  readonly cmd: string[];
  /** The WORKDIR in the image (/app). */
  readonly workdir: string;
}

const dockerfile = () =>
  DockerfileParser.parse(readFileSync(join(REPO, 'gpu-worker/Dockerfile'), 'utf8'));

/** An instruction's text with its line continuations joined. */
const text = (i: Instruction) => (i.getArgumentsContent() ?? '').replace(/\\\r?\n\s*/g, ' ');

/** Shell words: whitespace-separated, with '…' and "…" quoting. */
function words(s: string): string[] {
  const out: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || word) out.push(word);
      word = '';
      started = false;
    } else {
      word += ch;
    }
  }
  if (started || word) out.push(word);
  return out;
}

export function buildWorkerImage(into: string): WorkerImage {
  const instructions = dockerfile().getInstructions();
  const args = new Map<string, string>();
  const stages: { name: string; instructions: Instruction[] }[] = [];
  for (const i of instructions) {
    const keyword = i.getKeyword();
    if (keyword === 'FROM') {
      const parts = i.getArguments().map((a) => a.getValue());
      stages.push({ name: parts[parts.length - 1] ?? '', instructions: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = text(i).split('=', 2);
      if (name && value !== undefined) args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(i);
    }
  }
  const expand = (s: string) =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a?: string, b?: string) => args.get(a ?? b ?? '') ?? m);
  const stage = (name: string) => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`gpu-worker/Dockerfile has no stage ${name}`);
    return found.instructions;
  };

  // The build stage's bundling command, with dist/worker moved under our image folder.
  const appDir = join(into, 'app');
  const bundle = stage('build')
    .filter((i) => i.getKeyword() === 'RUN')
    .map(text)
    .find((r) => r.includes('esbuild'));
  if (!bundle) throw new Error('no esbuild RUN in the build stage');
  const argv = words(bundle)
    .filter((w) => w !== 'npx' && w !== 'esbuild')
    .map((w) => (w.startsWith('--outdir=') ? `--outdir=${join(appDir, w.slice(9))}` : w));
  const esbuild = spawnSync(join(REPO, 'node_modules/.bin/esbuild'), argv, {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (esbuild.status !== 0) throw new Error(`worker bundle failed: ${esbuild.stderr}`);

  const runtime = stage('runtime');
  const workdirInstruction = runtime.find((i) => i.getKeyword() === 'WORKDIR');
  if (!workdirInstruction) throw new Error('the runtime stage has no WORKDIR');
  const workdir = text(workdirInstruction);
  // The runtime stage's COPYs: the deps stage's node_modules (ours, linked) and the models.
  symlinkSync(join(REPO, 'node_modules'), join(appDir, 'node_modules'));
  for (const copy of runtime.filter((i) => i.getKeyword() === 'COPY')) {
    const [from, to] = words(expand(text(copy))).filter((w) => !w.startsWith('--'));
    if ((from === 'models' || from?.startsWith('models/')) && to) {
      mkdirSync(join(appDir, to, '..'), { recursive: true });
      symlinkSync(join(REPO, from), join(appDir, to));
    }
  }
  const imageEnv: Record<string, string> = {};
  for (const env of runtime.filter((i) => i.getKeyword() === 'ENV')) {
    for (const w of words(expand(text(env)))) {
      const at = w.indexOf('=');
      if (at > 0) imageEnv[w.slice(0, at)] = w.slice(at + 1);
    }
  }
  const cmdInstruction = runtime.filter((i) => i.getKeyword() === 'CMD').at(-1);
  const cmd = JSON.parse(cmdInstruction ? text(cmdInstruction) : '[]') as string[];
  return { appDir, imageEnv, cmd, workdir };
}

/** Runs the image's CMD in its WORKDIR with exactly `env`. */
export function runWorker(image: WorkerImage, env: Record<string, string>) {
  const [program, ...rest] = image.cmd;
  if (program !== 'node') throw new Error(`CMD starts ${String(program)}, not node`);
  return spawn(process.execPath, rest, {
    cwd: image.appDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
