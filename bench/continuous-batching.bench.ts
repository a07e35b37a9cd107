/**
 * Continuous against static batching (DITSERVE_BATCHING) on the embedded stack: the in-process
 * API + worker over the local data-folder adapters (functions/local/embedded.ts), the shipped
 * model, one worker, in this one process. A seeded Poisson trace of mixed jobs (steps from
 * {20, 32, 48}, guidance from {3, 4.5, 6}, 1–4 images, prompts from the model's vocabulary) is
 * replayed against each mode, at offered loads set from static's measured capacity:
 *
 *   1. capacity: static, every job of a trace at once (a saturating burst), images/s;
 *   2. each of `--loads` (default 3, 1.5 and 0.8) × that capacity, in images/s. Above 1 is
 *      overload for static; continuous batching shows its own capacity only where the offer
 *      exceeds it too (at 1.5× it may simply keep up, so its images/s is the offer's).
 *
 * Each load's trace is generated once and replayed by every variant, each on a fresh stack:
 * `static` (DITSERVE_BATCHING=static: the old intake, no step graph), `continuous` (the new
 * intake, the step graph where the model has one) and `continuous-intake` (the new intake
 * without the step graph: the intake's effect alone, told apart from the shared steps'). Per
 * variant and load: completed jobs, wall time (first arrival → last end), images/s, p50/p90 job
 * latency (POST → the worker's job_finished succeeded), the main thread's event-loop delay p99;
 * and each variant / static.
 *
 *   npx tsx bench/continuous-batching.bench.ts [--device cpu|cuda] [--runner stock|native]
 *     [--jobs 16] [--capacity-jobs N] [--seed 7] [--steps-scale 0.25] [--batch-size 8]
 *     [--loads 3,1.5,0.8] [--variants static,continuous,continuous-intake] [--threads N]
 *     [--model models/shapes-mmdit-s] [--out results.json]
 *
 * The CPU default (`--steps-scale 0.25`: steps {5, 8, 12}, 16 jobs a run, three variants) takes
 * about two minutes on two cores; on CUDA the default scale is 1. Bundled for the GPU machine with
 * `tsx scripts/bundle-gpu.ts bench/continuous-batching.bench.ts dist/bench-gpu/continuous-batching.mjs`.
 * Prints the table and a `BENCH_JSON` line; `--out` also writes the JSON to a file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/logger.ts';
import { SETTINGS } from '../core/settings.ts';
import { startEmbedded } from '../functions/local/embedded.ts';
import { readModelConfig } from '../gpu-worker/src/sampler/index.ts';
import type { Batching } from '../gpu-worker/src/worker/context.ts';
import {
  burst,
  DEFAULT_MIX,
  meanImages,
  poissonTrace,
  scaledSteps,
  type TraceJob,
} from './lib/arrival-trace.ts';
import {
  EVENT_LOOP_RESOLUTION_MS,
  JobEnds,
  replay,
  type ReplayResult,
} from './lib/replay-trace.ts';
import { machine, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    runner: { type: 'string', default: 'stock' },
    jobs: { type: 'string', default: '16' },
    'capacity-jobs': { type: 'string' },
    seed: { type: 'string', default: '7' },
    'steps-scale': { type: 'string' },
    'batch-size': { type: 'string', default: String(SETTINGS.batchSize.default) },
    loads: { type: 'string', default: '3,1.5,0.8' },
    threads: { type: 'string' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
    variants: { type: 'string', default: 'static,continuous,continuous-intake' },
    out: { type: 'string' },
  },
});
const choice = <T extends string>(name: string, value: string, allowed: readonly T[]): T => {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return value as T;
};
const device = choice('device', values.device, ['cpu', 'cuda'] as const);
const runner = choice('runner', values.runner, ['stock', 'native'] as const);
const jobs = Number(values.jobs);
const capacityJobs = Number(values['capacity-jobs'] ?? values.jobs);
const seed = Number(values.seed);
const stepsScale = Number(values['steps-scale'] ?? (device === 'cpu' ? 0.25 : 1));
const batchSize = Number(values['batch-size']);
const loads = values.loads.split(',').map(Number);
const threads = values.threads ? Number(values.threads) : undefined;
const mix = { ...DEFAULT_MIX, stepsScale };
const vocabulary = (await readModelConfig(values.model)).manifest.vocabulary;

const VARIANTS = {
  static: { batching: 'static', stepGraph: false },
  continuous: { batching: 'continuous', stepGraph: true },
  // Diagnostic: continuous intake on the old sampler path, so that the intake's effect and
  // the shared steps' can be told apart.
  'continuous-intake': { batching: 'continuous', stepGraph: false },
} as const satisfies Record<string, { batching: Batching; stepGraph: boolean }>;
type Variant = keyof typeof VARIANTS;
const variants = values.variants
  .split(',')
  .map((v) => choice('variants', v, Object.keys(VARIANTS) as Variant[]));
if (variants[0] !== 'static') throw new Error('--variants must start with static (the baseline)');

const ends = new JobEnds();

/** A fresh stack (its own data folder) for `variant`, warmed by one small job. */
async function withStack(variant: Variant, run: (url: string) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-batching-bench-'));
  const stack = await startEmbedded({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    modelDirs: [values.model],
    device,
    runner,
    threads,
    workers: 1,
    maxBatchImages: batchSize,
    ...VARIANTS[variant],
    requireKeys: false,
    allowLoopbackWebhooks: false,
    limits: { requestsPerSecond: 1e6, burst: 1e6, maxQueuedPerTenant: 1e6 },
    logger: silentLogger,
    onWorkerEvent: ends.onWorkerEvent,
    pollWaitSeconds: 1,
    sweepSeconds: 0,
  });
  try {
    await stack.ready;
    const warm = poissonTrace({ seed: seed + 2000, jobs: 1, jobsPerSecond: 1, mix, vocabulary });
    await replay(stack.url, warm, ends, 120_000);
    await run(stack.url);
  } finally {
    await stack.stop(5_000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Long enough for the trace to arrive and a saturated worker to work off what is left. */
const timeoutFor = (trace: readonly TraceJob[], imagesPerSecond: number) => {
  const images = trace.reduce((n, j) => n + j.body.num_images, 0);
  return (trace.at(-1)?.atMs ?? 0) + (4 * images * 1000) / Math.max(imagesPerSecond, 0.01) + 60_000;
};

// (1) Static capacity: a burst of jobs keeps the worker busy throughout. (2) The load traces,
// from it, replayed by static on the same stack and then by each other variant on its own.
let capacity: ReplayResult | undefined;
let traces: TraceJob[][] = [];
const results = new Map<Variant, ReplayResult[]>();
for (const variant of variants) {
  await withStack(variant, async (url) => {
    if (!capacity) {
      const capacityTrace = burst(
        poissonTrace({ seed: seed + 1000, jobs: capacityJobs, jobsPerSecond: 1, mix, vocabulary }),
      );
      capacity = await replay(url, capacityTrace, ends, 30 * 60_000);
      const imagesPerSecond = capacity.imagesPerSecond;
      traces = loads.map((factor, i) =>
        poissonTrace({
          seed: seed + i,
          jobs,
          jobsPerSecond: (factor * imagesPerSecond) / meanImages(mix),
          mix,
          vocabulary,
        }),
      );
    }
    const runs: ReplayResult[] = [];
    for (const trace of traces) {
      runs.push(await replay(url, trace, ends, timeoutFor(trace, capacity.imagesPerSecond)));
    }
    results.set(variant, runs);
  });
}
if (!capacity) throw new Error('no capacity measured');
const capacityImagesPerSecond = capacity.imagesPerSecond;

const ratio = (a: number, b: number) => round(b > 0 ? a / b : NaN, 3);
const overStatic = (r: ReplayResult, s: ReplayResult) => ({
  wall: ratio(r.wallS, s.wallS),
  imagesPerSecond: ratio(r.imagesPerSecond, s.imagesPerSecond),
  latencyP50: ratio(r.latencyP50S, s.latencyP50S),
  latencyP90: ratio(r.latencyP90S, s.latencyP90S),
  eventLoopDelayP99: ratio(r.eventLoopDelayP99Ms, s.eventLoopDelayP99Ms),
});
const levels = loads.map((factor, i) => {
  const byVariant = Object.fromEntries(
    variants.map((v) => {
      const r = results.get(v)?.[i];
      if (!r) throw new Error(`load ${factor}: ${v} did not run`);
      return [v, r];
    }),
  ) as Record<Variant, ReplayResult>;
  const trace = traces[i] ?? [];
  return {
    name: factor > 1 ? 'above capacity' : 'below capacity',
    factor,
    offeredImagesPerSecond: round(factor * capacityImagesPerSecond, 3),
    offeredJobsPerSecond: round((factor * capacityImagesPerSecond) / meanImages(mix), 3),
    traceSeconds: round((trace.at(-1)?.atMs ?? 0) / 1000, 2),
    images: trace.reduce((n, j) => n + j.body.num_images, 0),
    ...byVariant,
    overStatic: Object.fromEntries(
      variants.slice(1).map((v) => [v, overStatic(byVariant[v], byVariant.static)]),
    ),
  };
});

const row = (level: string, variant: string, r: ReplayResult) => [
  level,
  variant,
  `${r.completed}/${r.jobs}`,
  r.wallS,
  r.imagesPerSecond,
  r.latencyP50S,
  r.latencyP90S,
  r.eventLoopDelayP99Ms,
];
const human = [
  table([
    ['load', 'batching', 'done', 'wall s', 'images/s', 'p50 s', 'p90 s', 'loop p99 ms'],
    row('capacity (burst)', 'static', capacity),
    ...levels.flatMap((l) =>
      variants.map((v, j) =>
        row(j === 0 ? `${l.factor}× (${l.offeredImagesPerSecond} img/s)` : '', v, l[v]),
      ),
    ),
  ]),
  ...levels.flatMap((l) =>
    Object.entries(l.overStatic).map(
      ([v, r]) =>
        `${l.factor}× capacity, ${v} / static: images/s ${r.imagesPerSecond}, ` +
        `p50 ${r.latencyP50}, p90 ${r.latencyP90}, wall ${r.wall}`,
    ),
  ),
  `${values.model} on ${device} (${runner} runner), batch size ${batchSize}, steps ` +
    `${scaledSteps(mix).join('/')} (scale ${stepsScale}), ${jobs} jobs a run, trace seed ${seed}`,
].join('\n');
const summary = {
  machine: await machine(),
  model: values.model,
  device,
  runner,
  threads: threads ?? 'default',
  batchSize,
  seed,
  stepsScale,
  mix: { ...mix, steps: scaledSteps(mix), stepsBeforeScale: mix.steps },
  jobsPerRun: jobs,
  variants: Object.fromEntries(variants.map((v) => [v, VARIANTS[v]])),
  eventLoopResolutionMs: EVENT_LOOP_RESOLUTION_MS,
  capacity: { method: 'static, every job at once', ...capacity },
  loads: levels,
};
report('continuous-batching', human, summary);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(
    values.out,
    `${JSON.stringify({ bench: 'continuous-batching', ...summary }, null, 1)}\n`,
  );
}
