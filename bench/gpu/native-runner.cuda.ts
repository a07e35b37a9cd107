/**
 * On the GPU machine: the native runner (koffi → onnxruntime's C API) on CUDA against the stock
 * binding, shipped model, one runner per process (a process never mixes them: see
 * docs/native-runner.md). `node native-runner.mjs <stock|native>` prints one JSON line per
 * measurement: 48-step images at batch 1 and 8 through the sampler (ms per image, a hash of
 * the pixels to compare across the two processes), then the transformer alone on the feeds of a
 * real batch-8 step (ms per run; native also through IoBinding, and with `enable_cuda_graph`,
 * which onnxruntime accepts only with static shapes and device-bound inputs: the outcome is
 * recorded either way). docs/gpu.md has the command and the figures.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { generate, loadModel } from '../../gpu-worker/src/sampler/index.ts';
import { openRunner } from '../../gpu-worker/src/runner/open-runner.ts';
import { openNativeRunner } from '../../gpu-worker/src/runner/native-runner.ts';
import type { Runner, TensorMap } from '../../gpu-worker/src/runner/index.ts';

const DIR = 'models/shapes-mmdit-s';
const kind = process.argv[2] === 'native' ? 'native' : 'stock';
const line = (value: unknown) => {
  console.log(JSON.stringify({ runner: kind, ...(value as object) }));
};

async function images(batch: number): Promise<TensorMap | undefined> {
  const model = await loadModel(DIR, { device: 'cuda', runner: kind });
  const requests = Array.from({ length: batch }, (_, i) => ({
    prompt: 'a red circle left of a blue square',
    seed: i,
    steps: 48,
  }));
  await generate(model, requests.slice(0, 1)); // warm-up: kernels, arena
  let feeds: TensorMap | undefined;
  const transformer = model.transformer;
  const run = transformer.run.bind(transformer);
  (transformer as { run: Runner['run'] }).run = (f, s) => {
    feeds ??= f;
    return run(f, s);
  };
  const t = performance.now();
  const out = await generate(model, requests);
  const ms = performance.now() - t;
  const hash = createHash('sha256');
  for (const o of out) hash.update(o.pixels);
  line({
    part: 'images',
    batch,
    device: model.device,
    msPerImage: ms / batch,
    pixels: hash.digest('hex').slice(0, 16),
  });
  await model.release();
  return feeds;
}

async function timeRuns(name: string, open: () => Promise<Runner>, feeds: TensorMap, n = 50) {
  let runner: Runner | undefined;
  try {
    runner = await open();
    await runner.run(feeds);
    await runner.run(feeds);
    const t = performance.now();
    for (let i = 0; i < n; i++) await runner.run(feeds);
    line({ part: 'transformer', name, msPerRun: (performance.now() - t) / n });
  } catch (error) {
    line({ part: 'transformer', name, error: String(error).slice(0, 300) });
  } finally {
    await runner?.release();
  }
}

await images(1);
const feeds = await images(8);
const path = join(DIR, 'transformer', 'model.fp16.onnx');
if (feeds && kind === 'stock') {
  await timeRuns('stock', () => openRunner('stock', path, { device: 'cuda' }), feeds);
} else if (feeds) {
  await timeRuns('native-run', () => openNativeRunner(path, { device: 'cuda' }), feeds);
  await timeRuns(
    'native-iobinding',
    () => openNativeRunner(path, { device: 'cuda', ioBinding: true }),
    feeds,
  );
  await timeRuns(
    'native-cuda-graph',
    () =>
      openNativeRunner(path, { device: 'cuda', ioBinding: true, cuda: { enableCudaGraph: true } }),
    feeds,
  );
}
