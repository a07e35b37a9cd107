/**
 * Cold start: (1) the worker process from spawn to ready on the CPU: `node --import tsx
 * gpu-worker/src/worker/main.ts` with DITSERVE_BACKEND=local (fresh data folder), until it logs
 * {"type":"state","state":"ready"} (models loaded and warmed up), next to a bare `node -e` spawn
 * in the same run; (2) the API Lambda: functions/api/lambda.ts bundled with esbuild (--bundle
 * --platform=node --format=esm --minify, a createRequire banner), its size, and its module
 * init time (import of the bundle in a fresh node process, AWS variables set to dummy values;
 * init includes reading the model manifests; the runtime's global `awslambda.streamifyResponse`
 * is stubbed), next to importing an empty module.
 *
 *   npx tsx bench/cold-start.bench.ts [--rounds 5]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { machine, median, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

/** ms from spawn until a stdout line matches `ready` (or the process exits 0 when no pattern). */
function spawnUntil(args: string[], env: NodeJS.ProcessEnv, ready?: RegExp): Promise<number> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (ready?.test(out)) {
        const ms = performance.now() - start;
        child.kill('SIGTERM');
        done(ms);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      if (!ready && code === 0) done(performance.now() - start);
      else if (!ready?.test(out)) fail(new Error(`exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

// (1) The worker on the CPU.
const workerMs: number[] = [];
const bareMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-cold-'));
  workerMs.push(
    await spawnUntil(
      ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'],
      {
        ...process.env,
        DITSERVE_BACKEND: 'local',
        DITSERVE_DATA_DIR: dataDir,
        DITSERVE_DEVICE: 'cpu',
        DITSERVE_HEALTH_PORT: '0',
        DITSERVE_POLL_SECONDS: '1',
      },
      /"state":"ready"/,
    ),
  );
  await rm(dataDir, { recursive: true, force: true });
  bareMs.push(await spawnUntil(['-e', ''], process.env));
}

// (2) The Lambda bundle.
const outDir = await mkdtemp(join(tmpdir(), 'ditserve-lambda-bundle-'));
const outfile = join(outDir, 'lambda.mjs');
const bundleStart = performance.now();
await build({
  entryPoints: ['functions/api/lambda.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  target: 'node20',
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'error',
});
const bundleMs = performance.now() - bundleStart;
const bytes = (await stat(outfile)).size;
const empty = join(outDir, 'empty.mjs');
await writeFile(empty, 'export {};\n');
const lambdaEnv = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDUMMY',
  AWS_SECRET_ACCESS_KEY: 'dummy',
  DITSERVE_BACKEND: 'aws',
  DITSERVE_BUCKET: 'dummy-bucket',
  DITSERVE_JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs',
  DITSERVE_WEBHOOK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/webhooks',
  DITSERVE_MODEL_DIRS: resolve('models/shapes-mmdit-s'),
  POWERTOOLS_SERVICE_NAME: 'ditserve-api',
};
/** What the Lambda Node.js runtime provides globally (response streaming), as a stand-in. */
const LAMBDA_GLOBALS =
  'globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };';
/** Module init: a fresh process imports the file and prints how long the import took. */
const importMs = (file: string) =>
  new Promise<number>((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${LAMBDA_GLOBALS} const s = performance.now(); await import(${JSON.stringify(file)}); console.log('IMPORT_MS', performance.now() - s);`,
      ],
      { env: lambdaEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      const m = /IMPORT_MS ([\d.]+)/.exec(out);
      if (code === 0 && m?.[1]) done(Number(m[1]));
      else fail(new Error(`import failed (${code}): ${err.slice(-2000)}`));
    });
  });
const initMs: number[] = [];
const emptyMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  initMs.push(await importMs(outfile));
  emptyMs.push(await importMs(empty));
}
await rm(outDir, { recursive: true, force: true });

const rows = {
  workerReadyMs: round(median(workerMs)),
  bareNodeSpawnMs: round(median(bareMs)),
  lambdaBundleBytes: bytes,
  lambdaBundleMs: round(bundleMs),
  lambdaInitMs: round(median(initMs)),
  emptyModuleImportMs: round(median(emptyMs)),
};
report(
  'cold-start',
  table([
    ['measure', 'median', 'peer in the same run'],
    [
      'worker spawn → ready (CPU, tsx, model loaded + warmed)',
      `${rows.workerReadyMs} ms`,
      `bare node spawn → exit: ${rows.bareNodeSpawnMs} ms`,
    ],
    [
      'Lambda bundle (esbuild, minified ESM)',
      `${(bytes / 1024).toFixed(0)} KiB`,
      `built in ${rows.lambdaBundleMs} ms`,
    ],
    [
      'Lambda module init (import of the bundle)',
      `${rows.lambdaInitMs} ms`,
      `empty module import: ${rows.emptyModuleImportMs} ms`,
    ],
  ]) + `\n\n${rounds} rounds each`,
  { machine: await machine(), rounds, ...rows, samples: { workerMs, bareMs, initMs, emptyMs } },
);
