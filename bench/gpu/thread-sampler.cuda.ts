/**
 * On the GPU machine: the worker's sampler thread on CUDA against the sampler on the main thread,
 * same process: wall time of 8 images × 48 steps, the main event loop's delay while it runs, a
 * cancel at step 10, and whether both give the same pixels. docs/gpu.md has the command.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startThreadSampler } from '../../gpu-worker/src/worker/thread-sampler.ts';
import { inProcessSampler } from '../../gpu-worker/src/worker/sampler-port.ts';
import { loadModels } from '../../gpu-worker/src/worker/load-models.ts';
import { GenerationCanceledError } from '../../gpu-worker/src/sampler/index.ts';

const dirs = ['models/shapes-mmdit-s'];
const requests = Array.from({ length: 8 }, (_, i) => ({
  prompt: 'a red circle left of a blue square',
  seed: i,
  steps: 48,
}));
async function measure(name: string, s: Awaited<ReturnType<typeof startThreadSampler>>) {
  await s.generate('shapes-mmdit-s', requests.slice(0, 1));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  const out = await s.generate('shapes-mmdit-s', requests);
  const ms = performance.now() - t;
  h.disable();
  console.log(
    JSON.stringify({
      name,
      ms: Math.round(ms),
      images: out.length,
      loopP50: h.percentile(50) / 1e6,
      loopP99: h.percentile(99) / 1e6,
      first: out[0]?.pixels.slice(0, 6),
    }),
  );
  return out;
}
const thread = await startThreadSampler({ modelDirs: dirs, device: 'cuda' });
const a = await measure('thread-cuda', thread);
const abort = new AbortController();
let steps = 0;
let after = -1;
const p = thread.generate('shapes-mmdit-s', requests, {
  signal: abort.signal,
  onProgress: (s) => {
    steps = s;
    if (s === 10) {
      abort.abort();
      after = 0;
    } else if (after >= 0) after++;
  },
});
try {
  await p;
  console.log('cancel: NOT canceled');
} catch (e) {
  console.log(
    JSON.stringify({
      cancel: e instanceof GenerationCanceledError,
      stepsSeen: steps,
      stepsAfterAbort: after,
    }),
  );
}
await thread.release();
const inproc = inProcessSampler(await loadModels(dirs, { device: 'cuda' }));
const b = await measure('inprocess-cuda', inproc);
const same =
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i];
    return y !== undefined && Buffer.compare(Buffer.from(x.pixels), Buffer.from(y.pixels)) === 0;
  });
console.log(JSON.stringify({ identicalPixels: same }));
await inproc.release();
