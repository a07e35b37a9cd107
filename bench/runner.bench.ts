/**
 * The two Runner adapters on the CPU: ms per transformer run of the shipped model (one guided
 * step at the default size, batch 2 = cond + uncond), stock onnxruntime-node against the native
 * C-API runner (Run, and IoBinding + RunWithBinding), the same session options and threads, and
 * how often the event loop turns (a 1 ms timer) while each one runs (the stock binding computes on the JS thread,
 * the native runner on a koffi worker thread).
 *
 *   npx tsx bench/runner.bench.ts [--rounds 30] [--threads 2] [--model models/shapes-mmdit-s]
 *
 * Rounds alternate between the runners so that load from other work on a shared machine falls
 * on all of them alike; times are the median and the fastest run.
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { openNativeRunner } from '../gpu-worker/src/runner/native-runner.ts';
import type { Runner, TensorMap } from '../gpu-worker/src/runner/runner.ts';
import { openStockRunner } from '../gpu-worker/src/runner/stock-runner.ts';
import { readModelConfig } from '../gpu-worker/src/sampler/model-config.ts';
import { machine, median, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    threads: { type: 'string', default: String(availableParallelism()) },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
  },
});
const rounds = Number(values.rounds);
const threads = Number(values.threads);
const config = await readModelConfig(values.model);
const path = join(config.componentDirs.transformer ?? '', config.manifest.variants.cpu);
const { defaults } = config.manifest;
const f = config.downsampleFactor;
const c = config.transformer.inChannels;
const [h, w] = [defaults.height / f, defaults.width / f];
const b = 2;
const len = config.textEncoder.maxLength;
const d = config.textEncoder.hiddenSize;
const filled = (n: number, seed: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const feeds: TensorMap = {
  hidden_states: { type: 'float32', data: filled(b * c * h * w, 1), dims: [b, c, h, w] },
  timestep: { type: 'float32', data: Float32Array.from([500, 500]), dims: [b] },
  encoder_hidden_states: { type: 'float32', data: filled(b * len * d, 2), dims: [b, len, d] },
  pooled_projections: { type: 'float32', data: filled(b * d, 3), dims: [b, d] },
};

const runners: [string, Runner][] = [
  ['stock (onnxruntime-node)', await openStockRunner(path, { device: 'cpu', threads })],
  ['native (C API, Run)', await openNativeRunner(path, { device: 'cpu', threads })],
  [
    'native (C API, IoBinding)',
    await openNativeRunner(path, { device: 'cpu', threads, ioBinding: true }),
  ],
];
const loadBefore = loadavg()[0] ?? 0;
const samples = runners.map(() => [] as number[]);
const ticks = runners.map(() => [] as number[]);
const outputs: Float32Array[] = [];
for (const [, runner] of runners) {
  const out = await runner.run(feeds); // warm-up
  if (out.sample?.type === 'float32') outputs.push(out.sample.data);
}
for (let r = 0; r < rounds; r++) {
  for (const [i, [, runner]] of runners.entries()) {
    // A 1 ms timer counts how often the event loop turned while the run computed.
    let turns = 0;
    const timer = setInterval(() => {
      turns += 1;
    }, 1);
    const start = performance.now();
    await runner.run(feeds);
    samples[i]?.push(performance.now() - start);
    clearInterval(timer);
    ticks[i]?.push(turns);
    await sleep(1);
  }
}
await Promise.all(runners.map(([, r]) => r.release()));
const loadAfter = loadavg()[0] ?? 0;
const [reference] = outputs;
const sameBytes = outputs.every(
  (o) =>
    reference !== undefined &&
    Buffer.from(o.buffer, o.byteOffset, o.byteLength).equals(
      Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength),
    ),
);

const rows = runners.map(([name], i) => {
  const s = samples[i] ?? [];
  return { name, medianMs: median(s), fastestMs: Math.min(...s), ticks: median(ticks[i] ?? []) };
});
const stockMedian = rows[0]?.medianMs ?? NaN;
const human = [
  `transformer of ${config.manifest.name}, batch ${b} at ${defaults.width}×${defaults.height}, ${threads} threads, ${rounds} rounds, load ${round(loadBefore, 2)} → ${round(loadAfter, 2)}`,
  table([
    ['runner', 'median ms', 'fastest ms', 'vs stock', 'event-loop turns per run (median)'],
    ...rows.map((r) => [
      r.name,
      round(r.medianMs, 2),
      round(r.fastestMs, 2),
      `${round(r.medianMs / stockMedian, 3)}×`,
      r.ticks,
    ]),
  ]),
  `same output bytes from every runner: ${sameBytes}`,
].join('\n');
report('runner', human, {
  machine: await machine(),
  model: config.manifest.name,
  batch: b,
  threads,
  rounds,
  loadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
  runners: rows.map((r) => ({
    name: r.name,
    medianMs: round(r.medianMs, 3),
    fastestMs: round(r.fastestMs, 3),
    eventLoopTurnsPerRun: r.ticks,
  })),
  sameBytes,
});
