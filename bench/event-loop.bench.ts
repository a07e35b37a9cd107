/**
 * The main thread's event-loop delay while the CPU sampler generates images: in-process (every
 * session.run() blocks the loop for its whole duration) against the thread sampler (the loop
 * only passes messages), in the same process, on the same models. Also images per second of
 * each, which must agree within noise: the thread adds a message per step and a transfer.
 *
 *   npm run bench:event-loop [-- --rounds 3 --images 1 --steps 48 --threads N]
 *
 * Each round runs, for each sampler, `images` images with the delay monitor on, then `images`
 * with it off, timed for images/s. Rounds alternate the two samplers, so load from other
 * processes on this (shared) machine lands on both alike; rerun when the two images/s disagree
 * by more than a few percent while the load average is high.
 *
 * The delay is perf_hooks.monitorEventLoopDelay at 1 ms resolution, over the generation calls
 * only: the median round's p50, the worst round's p99 and max. A sample is the whole interval
 * between two turns of its 1 ms timer, so an idle loop reads about 1 ms. p99 is about what a
 * heartbeat or a cancel request waits for, but for one in a hundred.
 */
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadModels } from '../gpu-worker/src/worker/load-models.ts';
import { inProcessSampler, type Sampler } from '../gpu-worker/src/worker/sampler-port.ts';
import { startThreadSampler } from '../gpu-worker/src/worker/thread-sampler.ts';
import { machine, median, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    images: { type: 'string', default: '1' },
    steps: { type: 'string' },
    threads: { type: 'string' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
  },
});
const rounds = Number(values.rounds);
const perPass = Number(values.images);
const steps = values.steps ? Number(values.steps) : undefined;
const threads = values.threads ? Number(values.threads) : undefined;
const options = { modelDirs: [values.model], device: 'cpu', threads } as const;

const inProcess = inProcessSampler(await loadModels(options.modelDirs, options));
const threaded = await startThreadSampler(options);
const [model] = [...inProcess.models.keys()];
if (!model) throw new Error(`no model loaded from ${values.model}`);

interface Tally {
  readonly name: string;
  readonly sampler: Sampler;
  /**
   * One per round: a monitor re-enabled after the other sampler's round would count that whole
   * round as one delay, and Node cannot merge them.
   */
  readonly rounds: IntervalHistogram[];
  ms: number;
  images: number;
  first: Uint8Array | null;
}
const tally = (name: string, sampler: Sampler): Tally => ({
  name,
  sampler,
  rounds: [],
  ms: 0,
  images: 0,
  first: null,
});
const samplers = [tally('in-process', inProcess), tally('thread', threaded)];

// One image per call, one call after another: what the worker does with batches of one.
async function generateImages(t: Tally, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const [image] = await t.sampler.generate(model ?? '', [
      { prompt: 'a red circle left of a blue square', seed: 7 + i, steps },
    ]);
    t.first ??= image?.pixels ?? null;
  }
}

async function delayPass(t: Tally): Promise<void> {
  const monitor = monitorEventLoopDelay({ resolution: 1 });
  monitor.enable();
  await generateImages(t, perPass);
  monitor.disable();
  t.rounds.push(monitor);
}

// Speed is timed with the monitor off: its 1 kHz timer only fires (and takes a core from
// onnxruntime's threads) when the loop is free, i.e. with the thread sampler.
async function speedPass(t: Tally): Promise<void> {
  const start = performance.now();
  await generateImages(t, perPass);
  t.ms += performance.now() - start;
  t.images += perPass;
}

const loadBefore = loadavg()[0] ?? 0;
// A warm-up call each, outside the histograms (first-run allocations).
for (const t of samplers) await t.sampler.generate(model, [{ prompt: 'warm up', steps: 2 }]);
for (let r = 0; r < rounds; r++) {
  // Either order every other round, so neither always runs on the other's heels.
  const order = r % 2 ? [...samplers].reverse() : samplers;
  for (const t of order) await delayPass(t);
  for (const t of order) await speedPass(t);
}
await threaded.release();
await inProcess.release();
const loadAfter = loadavg()[0] ?? 0;

// Over rounds: the median round's p50, the worst round's p99 and max.
const ms = (ns: number) => round(ns / 1e6, 1);
const over = (t: Tally, f: (h: IntervalHistogram) => number) => t.rounds.map(f);
const rows = samplers.map((t) => ({
  sampler: t.name,
  p50Ms: ms(median(over(t, (h) => h.percentile(50)))),
  p99Ms: ms(Math.max(...over(t, (h) => h.percentile(99)))),
  maxMs: ms(Math.max(...over(t, (h) => h.max))),
  imagesPerSecond: round((1000 * t.images) / t.ms, 3),
  images: t.images,
}));
const [a, b] = samplers;
const samePixels = a?.first && b?.first ? Buffer.from(a.first).equals(Buffer.from(b.first)) : false;
const speed = (rows[1]?.imagesPerSecond ?? 0) / (rows[0]?.imagesPerSecond ?? 1);

const threadsText = threads ?? `default (${availableParallelism()} cores)`;
const human = [
  table([
    ['sampler', 'event-loop delay p50', 'p99', 'max', 'images/s', 'images timed'],
    ...rows.map((r) => [
      r.sampler,
      `${r.p50Ms} ms`,
      `${r.p99Ms} ms`,
      `${r.maxMs} ms`,
      r.imagesPerSecond,
      r.images,
    ]),
  ]),
  `thread / in-process images/s: ${speed.toFixed(3)}; same pixels: ${samePixels}`,
  `${model}, ${steps ?? 'default'} steps, onnxruntime threads ${threadsText}, ` +
    `load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`,
].join('\n');
report('event-loop', human, {
  machine: await machine(),
  model,
  steps: steps ?? 'default',
  threads: threads ?? 'default',
  rounds,
  imagesPerPass: perPass,
  loadAverage: { before: round(loadBefore, 2), after: round(loadAfter, 2) },
  samplers: rows,
  threadSpeedRatio: round(speed, 3),
  samePixels,
});
