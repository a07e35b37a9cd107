/**
 * The onnxruntime-node (CUDA) side of the GPU benchmark, run on the GPU machine from a bundle
 * (scripts/bundle-gpu.ts → dist/bench-gpu/ort-cuda.mjs; see docs/performance.md for the command):
 *
 * (a) the shipped model through ditserve's own loadModel + generate on CUDA at batch 1, 8, 32:
 *     load time (sessions + warm-up), images/s, per-step latency (from onProgress), GPU memory;
 * (b) the SD3-medium-shaped MMDiT exported by bench/gpu/torch_peer.py, one session per variant
 *     with ditserve's CUDA session options (graphOptimizationLevel 'all'), batch 1 with CFG as
 *     one batch of 2 rows (and as two batch-1 calls): session create time, per-step latency,
 *     GPU memory, parity against PyTorch's output; and the census of node types in
 *     onnxruntime's optimised graph (depth-2 copies, saved with optimizedModelFilePath).
 *
 *   node dist/bench-gpu/ort-cuda.mjs --sd3 /tmp/perf --out $OUT/ort.json [--variants mha,mha_fused]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { generate, loadModel } from '../../gpu-worker/src/sampler/index.ts';
import { median } from '../lib/stats.ts';

const { values } = parseArgs({
  options: {
    sd3: { type: 'string' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
    out: { type: 'string', default: 'ort.json' },
    variants: { type: 'string', default: 'mha,mha_fused' },
    iters: { type: 'string', default: '10' },
  },
});
const iters = Number(values.iters);
const results: Record<string, unknown> = { onnxruntime: ort.env.versions.common };
const t0 = performance.now();
const log = (msg: string) => {
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
};
const save = () => {
  writeFileSync(values.out, JSON.stringify(results, null, 1));
};

/** MiB of GPU memory this process holds (nvidia-smi), or the whole GPU's used memory. */
function gpuMemMiB(): number | null {
  try {
    const apps = execFileSync(
      'nvidia-smi',
      ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'],
      { encoding: 'utf8' },
    );
    for (const line of apps.trim().split('\n')) {
      const [pid, mib] = line.split(',').map((s) => s.trim());
      if (Number(pid) === process.pid) return Number(mib);
    }
    const used = execFileSync(
      'nvidia-smi',
      ['--query-gpu=memory.used', '--format=csv,noheader,nounits'],
      { encoding: 'utf8' },
    );
    return Number(used.trim().split('\n')[0]);
  } catch {
    return null;
  }
}

async function shipped(): Promise<void> {
  const start = performance.now();
  const model = await loadModel(values.model, { device: 'cuda' });
  const loadMs = performance.now() - start;
  log(`shipped model loaded on ${model.device} in ${loadMs.toFixed(0)} ms`);
  const rows: Record<string, unknown> = {};
  for (const batch of [1, 8, 32]) {
    const requests = Array.from({ length: batch }, (_, i) => ({
      prompt: 'a red circle left of a blue square',
      seed: i,
    }));
    await generate(model, requests);
    const calls: number[] = [];
    const steps: number[] = [];
    for (let r = 0; r < 5; r++) {
      let last = 0;
      const s = performance.now();
      await generate(model, requests, {
        onProgress: (_step, _total, elapsed) => {
          steps.push(elapsed - last);
          last = elapsed;
        },
      });
      calls.push(performance.now() - s);
    }
    const ms = median(calls);
    rows[String(batch)] = {
      msPerCall: ms,
      imagesPerSecond: batch / (ms / 1000),
      msPerStep: median(steps),
      gpuMemMiB: gpuMemMiB(),
    };
    log(
      `shipped batch ${batch}: ${ms.toFixed(1)} ms/call, ${(batch / (ms / 1000)).toFixed(1)} img/s, ${median(steps).toFixed(2)} ms/step`,
    );
  }
  results.shipped = {
    device: model.device,
    loadMs,
    defaults: model.config.manifest.defaults,
    rows,
  };
  await model.release();
}

const cudaOptions = (
  extra: Partial<ort.InferenceSession.SessionOptions> = {},
): ort.InferenceSession.SessionOptions => ({
  executionProviders: ['cuda'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  ...extra,
});

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function sd3(dir: string, variant: string): Promise<void> {
  const path = join(dir, variant, 'model.fp16.onnx');
  const shapes: Record<string, number[]> = {
    hidden_states: [2, 16, 128, 128],
    timestep: [2],
    encoder_hidden_states: [2, 333, 4096],
    pooled_projections: [2, 2048],
  };
  const feeds: Record<string, ort.Tensor> = {};
  const halves: Record<string, ort.Tensor> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const data = readF32(join(dir, `input_${name}.f32`));
    feeds[name] = new ort.Tensor('float32', data, shape);
    const per = data.length / 2;
    halves[name] = new ort.Tensor('float32', data.subarray(0, per), [1, ...shape.slice(1)]);
  }
  const memBefore = gpuMemMiB();
  const s = performance.now();
  const session = await ort.InferenceSession.create(path, cudaOptions());
  const createMs = performance.now() - s;
  log(`${variant}: session created in ${(createMs / 1000).toFixed(1)} s`);
  let out = await session.run(feeds);
  for (let i = 0; i < 2; i++) out = await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const a = performance.now();
    out = await session.run(feeds);
    ms.push(performance.now() - a);
  }
  const two: number[] = [];
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    await session.run(halves);
    await session.run(halves);
    two.push(performance.now() - a);
  }
  const sample = out.sample?.data as Float32Array;
  const ref = readF32(join(dir, 'output_sample.f32'));
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((sample[i] ?? NaN) - (ref[i] ?? 0)));
    maxRef = Math.max(maxRef, Math.abs(ref[i] ?? 0));
  }
  const mem = gpuMemMiB();
  results[`sd3_${variant}`] = {
    createMs,
    msPerStep: median(ms),
    allMs: ms,
    cfgAsTwoCallsMs: median(two),
    gpuMemMiB: mem,
    gpuMemBeforeMiB: memBefore,
    parity: { maxAbsDiff: maxDiff, maxAbsRef: maxRef },
  };
  log(
    `${variant}: ${median(ms).toFixed(1)} ms/step (CFG as 2 calls ${median(two).toFixed(1)} ms), ${mem} MiB, max|diff| ${maxDiff.toFixed(4)} of ${maxRef.toFixed(3)}`,
  );
  await session.release();

  // Census: what onnxruntime's optimiser made of the same graph (depth 2), saved for Python to count.
  const small = join(dir, `${variant}_depth2`, 'model.fp16.onnx');
  if (existsSync(small)) {
    const census = await ort.InferenceSession.create(
      small,
      cudaOptions({ optimizedModelFilePath: join(dir, `${variant}_depth2`, 'optimized.onnx') }),
    );
    await census.release();
  }
}

try {
  await shipped();
} catch (error) {
  results.shippedError = String(error);
  log(`shipped failed: ${String(error)}`);
}
save();
if (values.sd3) {
  for (const variant of values.variants.split(',')) {
    try {
      await sd3(values.sd3, variant);
    } catch (error) {
      results[`sd3_${variant}_error`] = String(error);
      log(`${variant} failed: ${String(error)}`);
    }
    save();
  }
}
log('done');
