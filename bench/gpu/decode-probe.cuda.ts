/**
 * On the GPU machine: one VAE decoder session's run time per decode bucket, alone and while the
 * step loop runs, and with other cuDNN algorithm searches (one JSON line each): the probe that
 * found the search rerun on every change of shape (docs/gpu.md).
 */
import { join } from 'node:path';
import { generate, loadModel } from '../../gpu-worker/src/sampler/index.ts';
import { decodeLatents } from '../../gpu-worker/src/sampler/components.ts';
import { openRunner } from '../../gpu-worker/src/runner/index.ts';
import type { Runner } from '../../gpu-worker/src/runner/runner.ts';
import { cudaRuntime } from '../../gpu-worker/src/runner/cuda-runtime.ts';
import { middle } from '../lib/stats.ts';

const DIR = 'models/shapes-mmdit-s';
const line = (v: object) => {
  console.log(JSON.stringify(v));
};
const latent = [16, 16, 16] as const;
const per = 16 * 16 * 16;

async function times(vae: Runner, rows: number, n: number): Promise<number[]> {
  const x = new Float32Array(rows * per).map(() => Math.random() - 0.5);
  const ms: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = performance.now();
    await decodeLatents(vae, x, rows, latent);
    ms.push(performance.now() - t);
  }
  return ms;
}

/** Decodes of 1, 2 and 4 rows on `runner` while the loop steps 32 samples of 48 steps. */
async function duringSteps(runner: Runner, part: string): Promise<void> {
  const busy = generate(
    model,
    Array.from({ length: 32 }, (_, i) => ({ prompt: 'a red circle', seed: i, steps: 48 })),
  );
  for (const rows of [1, 2, 4]) {
    const ms = await times(runner, rows, 3);
    line({ part, rows, medianMs: middle(ms), ms });
  }
  await busy;
}

const model = await loadModel(DIR, { device: 'cuda', runner: 'native' });
const path = join(
  model.config.componentDirs.vae_decoder ?? '',
  model.config.manifest.variants.cuda,
);
const BUCKETS = [1, 2, 4, 8, 16, 32];
// One session for every shape, each bucket decoded once first (what loadModel did before the
// model's VAE became a PerShapeRunner, which would search each shape only once).
const vae = await openRunner('native', path, { device: 'cuda' });
for (const rows of BUCKETS) await times(vae, rows, 1);
for (const rows of BUCKETS) {
  const ms = await times(vae, rows, 7);
  line({ part: 'alone', rows, medianMs: middle(ms), ms });
}
for (const search of ['HEURISTIC', 'DEFAULT', 'EXHAUSTIVE']) {
  const other = await openRunner('native', path, {
    device: 'cuda',
    cuda: { extra: { cudnn_conv_algo_search: search } },
  });
  for (const rows of BUCKETS) {
    const first = await times(other, rows, 1);
    const ms = await times(other, rows, 5);
    line({ part: 'search', search, rows, firstMs: first[0], medianMs: middle(ms), ms });
  }
  await other.release();
}
// On a stream of its own (user_compute_stream), alone and while the loop steps.
const cuda = cudaRuntime();
const stream = cuda.createStream();
const onStream = await openRunner('native', path, {
  device: 'cuda',
  cuda: { userComputeStream: stream },
});
for (const rows of BUCKETS) await times(onStream, rows, 1);
for (const rows of [1, 2, 4]) {
  const ms = await times(onStream, rows, 5);
  line({ part: 'own-stream', rows, medianMs: middle(ms), ms });
}
await duringSteps(onStream, 'own-stream-during-steps');
await duringSteps(vae, 'during-steps');
for (const rows of [1, 2, 4]) {
  const ms = await times(vae, rows, 3);
  line({ part: 'after', rows, medianMs: middle(ms), ms });
}
process.exit(0);
