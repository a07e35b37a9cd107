/**
 * On the GPU machine: one SD3-medium-shaped linear layer, fp16 MatMul against onnxruntime's
 * com.microsoft::GemmFloat8 (graphs from bench/gpu/fp8_gemm_graphs.py), through the native
 * runner's bound CUDA session (input and output on the device). One JSON line per graph: ms per
 * run (median of 20 after 3 warm-ups) and the output's relative L2 error against the float64
 * reference. One graph per process (`node fp8-gemm.mjs /tmp/fp8 fp8_1536x1536`): a failing
 * kernel must not take the others with it.
 */
import { join } from 'node:path';
import { CudaBoundSession } from '../../gpu-worker/src/runner/cuda-bound-session.ts';
import { cudaRuntime } from '../../gpu-worker/src/runner/cuda-runtime.ts';
import { middle, relativeL2 } from '../lib/stats.ts';
import { readF32 } from './raw-f32.ts';

const [dir = '/tmp/fp8', name = 'fp16_1536x1536'] = process.argv.slice(2);
const TOKENS = 2 * 4429;
const [k = 0, n = 0] = (/_(\d+)x(\d+)$/.exec(name) ?? []).slice(1).map(Number);

const cuda = cudaRuntime();
const stream = cuda.createStream();
const tag = `${k}x${n}`;
const x = readF32(join(dir, `x_${tag}.f32`));
const ref = readF32(join(dir, `ref_${tag}.f32`));
const xPtr = cuda.malloc(4 * TOKENS * k);
const yPtr = cuda.malloc(4 * TOKENS * n);
cuda.upload(xPtr, x, stream);
try {
  const session = await CudaBoundSession.open(join(dir, `${name}.onnx`), {
    stream,
    cudaGraph: false,
  });
  session.bind({ x: { ptr: xPtr, dims: [TOKENS, k] } }, { y: { ptr: yPtr, dims: [TOKENS, n] } });
  for (let i = 0; i < 3; i++) session.run();
  cuda.synchronize(stream);
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    session.run();
    cuda.synchronize(stream);
    ms.push(performance.now() - t);
  }
  const y = new Float32Array(TOKENS * n);
  cuda.download(y, yPtr, stream);
  const tflops = (2 * TOKENS * k * n) / (middle(ms) / 1000) / 1e12;
  console.log(
    JSON.stringify({
      part: 'fp8-gemm',
      name,
      msPerRun: middle(ms),
      tflops,
      relL2: relativeL2(y, ref),
      allMs: ms,
    }),
  );
  session.release();
} catch (error) {
  console.log(JSON.stringify({ part: 'fp8-gemm', name, error: String(error).slice(0, 900) }));
}
