/**
 * On the GPU machine: the shipped model's images through each stepping path, one path per process
 * (`node step-engine.mjs <path>`), one JSON line per measurement (docs/gpu.md has the command):
 *
 *   stock  today's path: the transformer graph through onnxruntime-node, CFG and Euler in JS
 *   host   the step graph through onnxruntime-node (latents copied in and out every step)
 *   graph  the step graph on device buffers, replayed as a CUDA graph (native runner)
 *   trace  graph's trace part alone, twice (for a CPU profile: node --cpu-prof)
 *
 * For each: 48-step images at batch 1, 8 and 32 (median of 5 calls after a warm-up; pixels hashed
 * and saved for the cross-process comparison), batch 32 with two calls in flight, a seeded Poisson trace of mixed requests replayed
 * as concurrent generate() calls, and the main thread's event-loop delay while it generates.
 * `graph` also times one bucket-8 step with and without capture.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generate, loadModel, type DitModel } from '../../gpu-worker/src/sampler/index.ts';
import { cudaRuntime } from '../../gpu-worker/src/runner/cuda-runtime.ts';
import { openCudaGraphStepEngine } from '../../gpu-worker/src/sampler/stepping/cuda-graph-step-engine.ts';
import { stepGraphPath } from '../../gpu-worker/src/sampler/stepping/stepping.ts';
import type { StepLoopStats } from '../../gpu-worker/src/sampler/stepping/step-loop.ts';
import type { Runner } from '../../gpu-worker/src/runner/runner.ts';
import { middle } from '../lib/stats.ts';

const DIR = 'models/shapes-mmdit-s';
const path = (process.argv[2] ?? 'graph') as 'stock' | 'host' | 'graph' | 'lifecycle' | 'trace';
const out = process.argv[3] ?? '.';
const line = (value: object) => {
  console.log(JSON.stringify({ path, ...value }));
};
const PROMPTS = [
  'a red circle left of a blue square',
  'a large yellow star',
  'two small pink rings',
  'a green triangle above a purple cross',
];

async function images(loaded: DitModel, batch: number): Promise<void> {
  const { model, textEncoder, decoder } = timedModel(loaded);
  const requests = Array.from({ length: batch }, (_, i) => ({
    prompt: PROMPTS[i % PROMPTS.length] ?? '',
    seed: i,
    steps: 48,
  }));
  await generate(model, requests); // warm-up: kernels, arena, this bucket's graph
  Object.assign(textEncoder, { runs: 0, ms: 0 });
  Object.assign(decoder, { runs: 0, ms: 0 });
  const ms: number[] = [];
  let pixels: Uint8Array[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const results = await generate(model, requests);
    ms.push(performance.now() - t);
    pixels = results.map((r) => r.pixels);
  }
  const all = Buffer.concat(pixels);
  writeFileSync(`${out}/pixels-${path}-${batch}.bin`, all);
  const m = middle(ms);
  line({
    part: 'images',
    batch,
    msPerCall: m,
    msPerImage: m / batch,
    imagesPerSecond: (1000 * batch) / m,
    allMs: ms,
    textEncoder,
    decoder,
  });
}

/**
 * Batches of `batch` images with two calls in flight, as a worker with a full queue runs them:
 * one call's host work (text, noise, pixels) overlaps the other's steps on the GPU.
 */
async function sustained(model: DitModel, batch: number, calls: number): Promise<void> {
  const requests = Array.from({ length: batch }, (_, i) => ({
    prompt: PROMPTS[i % PROMPTS.length] ?? '',
    seed: i,
    steps: 48,
  }));
  await generate(model, requests);
  let next = 0;
  const t = performance.now();
  const lane = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      await generate(model, requests);
    }
  };
  await Promise.all([lane(), lane()]);
  const wallMs = performance.now() - t;
  line({
    part: 'sustained',
    batch,
    calls,
    inFlight: 2,
    wallMs,
    imagesPerSecond: (1000 * batch * calls) / wallMs,
  });
}

interface Timed {
  runs: number;
  ms: number;
}

/** `runner` with its runs counted and timed (host wall time of each run) into `into`. */
function timed(runner: Runner, into: Timed): Runner {
  return {
    kind: runner.kind,
    inputNames: runner.inputNames,
    outputNames: runner.outputNames,
    run: async (feeds, settings) => {
      const t = performance.now();
      try {
        return await runner.run(feeds, settings);
      } finally {
        into.runs += 1;
        into.ms += performance.now() - t;
      }
    },
    endProfiling: () => runner.endProfiling(),
    release: () => runner.release(),
  };
}

/** `loaded` with its text encoder and VAE decoder timed. */
function timedModel(loaded: DitModel) {
  const textEncoder: Timed = { runs: 0, ms: 0 };
  const decoder: Timed = { runs: 0, ms: 0 };
  const model: DitModel = {
    ...loaded,
    textEncoder: timed(loaded.textEncoder, textEncoder),
    vaeDecoder: loaded.vaeDecoder && timed(loaded.vaeDecoder, decoder),
    pixelDecoder: loaded.pixelDecoder && timed(loaded.pixelDecoder, decoder),
  };
  return { model, textEncoder, decoder };
}

/**
 * Seeded mixed requests with Poisson arrivals; every request is its own concurrent call. With
 * where the wall time went: text-encoder and VAE runs, and the step loop's own accounting.
 */
async function trace(loaded: DitModel, jobs: number, ratePerSecond: number): Promise<void> {
  const { model, textEncoder, decoder } = timedModel(loaded);
  const statsBefore = loaded.stepping?.loop([16, 16, 16]).stats ?? null;
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let at = 0;
  const plan = Array.from({ length: jobs }, (_, i) => {
    at += -Math.log(1 - rand()) / ratePerSecond;
    return {
      at: at * 1000,
      steps: [20, 32, 48][Math.floor(rand() * 3)] ?? 20,
      guidanceScale: [3, 4.5, 6][Math.floor(rand() * 3)] ?? 4.5,
      n: 1 + Math.floor(rand() * 4),
      prompt: PROMPTS[i % PROMPTS.length] ?? '',
    };
  });
  const start = performance.now();
  const latencies: number[] = [];
  let imagesDone = 0;
  await Promise.all(
    plan.map(async (p, i) => {
      const wait = p.at - (performance.now() - start);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      const reqs = Array.from({ length: p.n }, (_, k) => ({
        prompt: p.prompt,
        seed: i * 8 + k,
        steps: p.steps,
        guidanceScale: p.guidanceScale,
      }));
      await generate(model, reqs);
      latencies.push(performance.now() - t);
      imagesDone += p.n;
    }),
  );
  const wall = performance.now() - start;
  line({
    part: 'trace',
    jobs,
    ratePerSecond,
    images: imagesDone,
    wallMs: wall,
    imagesPerSecond: (1000 * imagesDone) / wall,
    p50Ms: middle(latencies),
    p90Ms: [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)],
    textEncoder,
    decoder,
    loop: loopDelta(statsBefore, model.stepping?.loop([16, 16, 16]).stats ?? null),
  });
}

/** The loop's counters over one part (the images parts ran the same loop before). */
function loopDelta(before: StepLoopStats | null, after: StepLoopStats | null) {
  if (!before || !after) return null;
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - before[k as keyof StepLoopStats]]),
  );
}

async function loopDelay(model: DitModel): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await generate(
    model,
    Array.from({ length: 8 }, (_, i) => ({ prompt: PROMPTS[0] ?? '', seed: i, steps: 48 })),
  );
  h.disable();
  line({
    part: 'event-loop',
    p50Ms: h.percentile(50) / 1e6,
    p99Ms: h.percentile(99) / 1e6,
    maxMs: h.max / 1e6,
  });
}

/** The step geometry of the default 128² image. */
function defaultShape(model: DitModel) {
  return {
    latent: [16, 16, 16] as const,
    textLength: model.tokenizer.maxLength,
    textWidth: model.config.textEncoder.hiddenSize,
  };
}

/** Step values under which no slot moves (σ' = σ): steps to time, not to sample. */
function standStill(capacity: number) {
  return {
    sigma: new Float32Array(capacity).fill(0.5),
    sigmaNext: new Float32Array(capacity).fill(0.5),
    guidance: new Float32Array(capacity).fill(4.5),
  };
}

async function captureVsNot(model: DitModel): Promise<void> {
  const file = await stepGraphPath(model.config, 'cuda');
  if (!file) return;
  const cuda = cudaRuntime();
  const stream = cuda.createStream();
  const shape = defaultShape(model);
  for (const [capacity, cudaGraph] of [
    [1, true],
    [8, true],
    [32, true],
    [8, false],
  ] as const) {
    const engine = await openCudaGraphStepEngine({
      path: file,
      capacity,
      shape,
      cuda,
      stream,
      cudaGraph,
    });
    const p = standStill(capacity);
    for (let k = 0; k < 10; k++) await engine.step(p);
    const t = performance.now();
    for (let k = 0; k < 200; k++) await engine.step(p);
    line({ part: 'bucket-step', capacity, cudaGraph, msPerStep: (performance.now() - t) / 200 });
    await engine.release();
  }
  cuda.destroyStream(stream);
}

/**
 * onnxruntime's profile of uncaptured steps, per node type per step: host-side time (the CUDA
 * provider's Compute(), i.e. launches, not GPU time) and how many nodes run.
 */
async function profile(model: DitModel, capacity: number): Promise<void> {
  const file = await stepGraphPath(model.config, 'cuda');
  if (!file) return;
  const cuda = cudaRuntime();
  const stream = cuda.createStream();
  const shape = defaultShape(model);
  const engine = await openCudaGraphStepEngine({
    path: file,
    capacity,
    shape,
    cuda,
    stream,
    cudaGraph: false,
    profilePrefix: `/tmp/profile-${capacity}`,
    optimizedModelPath: `/tmp/step-optimized-${capacity}.onnx`,
  });
  const p = standStill(capacity);
  const runs = 20;
  for (let k = 0; k < runs; k++) await engine.step(p);
  const trace = engine.endProfiling();
  await engine.release();
  cuda.destroyStream(stream);
  if (!trace) return;
  interface Ev {
    cat?: string;
    name?: string;
    dur?: number;
    args?: { op_name?: string };
  }
  const events = JSON.parse(readFileSync(trace, 'utf8')) as Ev[];
  const byOp = new Map<string, { us: number; n: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const r = byOp.get(op) ?? { us: 0, n: 0 };
    r.us += e.dur ?? 0;
    r.n += 1;
    byOp.set(op, r);
  }
  // Runs 3 warm-ups in the engine's open() too: divide by all of them.
  const all = runs + 3;
  const rows = [...byOp.entries()]
    .map(([op, r]) => ({ op, usPerStep: r.us / all, nodesPerStep: r.n / all }))
    .sort((a, b) => b.usPerStep - a.usPerStep);
  line({
    part: 'profile',
    capacity,
    totalUsPerStep: rows.reduce((s, r) => s + r.usPerStep, 0),
    nodesPerStep: rows.reduce((s, r) => s + r.nodesPerStep, 0),
    rows,
  });
}

const loadStart = performance.now();
const model = await loadModel(DIR, {
  device: 'cuda',
  runner: path === 'stock' || path === 'host' ? 'stock' : 'native',
  stepGraph: path !== 'stock',
});
if (path === 'trace') {
  // The graph path's trace alone, twice (the first also warms the text encoder's row counts):
  // for a CPU profile of the trace (node --cpu-prof).
  await trace(model, 60, 40);
  await trace(model, 60, 40);
  await model.release();
} else if (path === 'lifecycle') {
  // Where a process that used CUDA graphs ends: release, then a natural exit.
  await generate(model, [{ prompt: PROMPTS[0] ?? '', seed: 1 }]);
  await model.release();
  line({ part: 'released' });
  process.exitCode = 0;
} else {
  line({
    part: 'load',
    loadMs: performance.now() - loadStart,
    device: model.device,
    engine: model.stepping?.engine ?? 'none',
    fallback: model.stepping?.fallbackReason ?? null,
  });
  for (const batch of [1, 8, 32]) await images(model, batch);
  await sustained(model, 32, 10);
  await loopDelay(model);
  await trace(model, 60, 40);
  if (path === 'graph') {
    await profile(model, 1);
    await profile(model, 32);
    await captureVsNot(model);
  }
  await model.release();
  line({ part: 'released' });
}
