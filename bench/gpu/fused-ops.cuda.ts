/**
 * On the GPU machine: the fused-op test graphs (tests/fixtures/fused-ops) with the CUDA build of
 * gpu-worker/ops, against onnxruntime's own ops on the CPU, same feeds. Prints one JSON line per
 * output (largest relative difference, share of identical values) and exits 1 if any output is
 * more than its tolerance off (one fp16 step; a few for the FP8 pair). docs/gpu.md has the command and its output.
 *
 *   node dist/bench-gpu/fused-ops.mjs /tmp/ops/libditserve_ops_cuda.so [tests/fixtures/fused-ops]
 */
import { basename, join, resolve } from 'node:path';
import { openNativeRunner } from '../../gpu-worker/src/runner/index.ts';
import {
  FP16_STEP,
  FP8_CUDA_STEP,
  compareOutputs,
  fusedOpsFeeds,
  fusedOpsShapes,
} from '../../tests/helpers/fused-ops-fixture.ts';

const [library, fixtures = 'tests/fixtures/fused-ops'] = process.argv.slice(2);
if (!library) throw new Error('usage: fused-ops.mjs <libditserve_ops_cuda.so> [fixtures]');
const dir = resolve(fixtures);
const shapes = fusedOpsShapes(dir);
const fused = await openNativeRunner(join(dir, 'fused.onnx'), {
  device: 'cuda',
  customOpsLibrary: library,
});
const reference = await openNativeRunner(join(dir, 'reference.onnx'), {
  device: 'cpu',
});
const feeds = fusedOpsFeeds(shapes);
const comparison = compareOutputs(shapes, await fused.run(feeds), await reference.run(feeds));
// The FP8 pair (fixtures' fp8/) sums in the FP8 tensor cores' accumulator.
const tolerance = basename(dir) === 'fp8' ? FP8_CUDA_STEP : FP16_STEP;
let ok = true;
for (const [output, c] of Object.entries(comparison)) {
  const pass = c.worst <= tolerance;
  ok &&= pass;
  console.log(JSON.stringify({ part: 'fused-ops-cuda', output, ...c, tolerance, pass }));
}
await fused.release();
await reference.release();
process.exit(ok ? 0 : 1);
