/**
 * On the GPU machine: the SD3-medium-shaped MMDiT (exported by bench/gpu/torch_peer.py into
 * --sd3 DIR, one folder per variant) through the native runner's bound CUDA session: inputs and
 * output on the device, every shape fixed (CFG batch of 2 rows, 128² latent), with and without a
 * CUDA graph, and with onnxruntime's default attention kernel or cuDNN's (sdpa_kernel). Prints
 * one JSON line per configuration: ms per step (median of 20 after 3 warm-ups) and parity with
 * PyTorch's output. docs/performance.md has the command.
 *
 *   node dist/bench-gpu/sd3-native.mjs --sd3 /tmp/perf --variants mha_fused,mha_fused_ln
 *   node dist/bench-gpu/sd3-native.mjs --sd3 /tmp/perf --variants ditserve_ops_ln --ops /tmp/ops/libditserve_ops_cuda.so
 *   node dist/bench-gpu/sd3-native.mjs … --variants ditserve_ops_gemm_ln,ditserve_fp8_ln --baseline ditserve_ops_gemm_ln
 *   CUDA_LAUNCH_BLOCKING=1 node dist/bench-gpu/sd3-native.mjs … --kernels 0 --profile /tmp/prof
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CudaBoundSession } from '../../gpu-worker/src/runner/cuda-bound-session.ts';
import { cudaRuntime } from '../../gpu-worker/src/runner/cuda-runtime.ts';
import { middle, relativeL2 } from '../lib/stats.ts';
import { readF32 } from './raw-f32.ts';

const { values } = parseArgs({
  options: {
    sd3: { type: 'string', default: '/tmp/perf' },
    variants: { type: 'string', default: 'mha_fused' },
    // onnxruntime's AttentionBackend bits: 0 = its own choice; 8 = cuDNN flash attention.
    kernels: { type: 'string', default: '0,8' },
    // The CUDA build of gpu-worker/ops, for the ditserve_ops variants.
    ops: { type: 'string' },
    // Profile instead of timing: onnxruntime's profile of 3 steps a variant into this folder
    // (run with CUDA_LAUNCH_BLOCKING=1, so that each node's time is its kernels'; profile_ops.py).
    profile: { type: 'string' },
    // Also compare each output with this variant's (its first configuration's): the FP8 step
    // against the fp16 graph on the same input, as relative L2.
    baseline: { type: 'string' },
  },
});
const SHAPES: Record<string, number[]> = {
  hidden_states: [2, 16, 128, 128],
  timestep: [2],
  encoder_hidden_states: [2, 333, 4096],
  pooled_projections: [2, 2048],
};
const OUTPUT = [2, 16, 128, 128];
const count = (dims: number[]) => dims.reduce((n, d) => n * d, 1);

const cuda = cudaRuntime();
const stream = cuda.createStream();
const inputs: Record<string, { ptr: bigint; dims: number[] }> = {};
for (const [name, dims] of Object.entries(SHAPES)) {
  const ptr = cuda.malloc(4 * count(dims));
  cuda.upload(ptr, readF32(join(values.sd3, `input_${name}.f32`)), stream);
  inputs[name] = { ptr, dims };
}
const output = { ptr: cuda.malloc(4 * count(OUTPUT)), dims: OUTPUT };
const reference = readF32(join(values.sd3, 'output_sample.f32'));
let baseline: Float32Array | undefined;

for (const variant of values.variants.split(',')) {
  const file = variant.endsWith('_ln')
    ? join(values.sd3, variant.replace(/_ln$/, ''), 'model.ln.fp16.onnx')
    : join(values.sd3, variant, 'model.fp16.onnx');
  for (const sdpaKernel of values.kernels.split(',').map(Number)) {
    for (const cudaGraph of values.profile === undefined ? [false, true] : [false]) {
      const at = { variant, sdpaKernel, cudaGraph };
      let session: CudaBoundSession | null = null;
      try {
        const t = performance.now();
        session = await CudaBoundSession.open(file, {
          stream,
          cudaGraph,
          sdpaKernel,
          freeDimensions: { batch: 2, height: 128, width: 128 },
          ...(variant.startsWith('ditserve_') && values.ops !== undefined
            ? { customOpsLibrary: values.ops }
            : {}),
          ...(values.profile === undefined ? {} : { profilePrefix: join(values.profile, variant) }),
        });
        const createMs = performance.now() - t;
        session.bind(inputs, { sample: output });
        for (let k = 0; k < 3; k++) session.run();
        cuda.synchronize(stream);
        if (values.profile !== undefined) {
          console.log(JSON.stringify({ part: 'sd3-profile', ...at, file: session.endProfiling() }));
          continue;
        }
        const ms: number[] = [];
        for (let k = 0; k < 20; k++) {
          const s = performance.now();
          session.run();
          cuda.synchronize(stream);
          ms.push(performance.now() - s);
        }
        const got = new Float32Array(count(OUTPUT));
        cuda.download(got, output.ptr, stream);
        if (variant === values.baseline) baseline ??= got;
        let maxAbsDiff = 0;
        let maxAbsRef = 0;
        got.forEach((v, i) => {
          maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - (reference[i] ?? 0)));
          maxAbsRef = Math.max(maxAbsRef, Math.abs(reference[i] ?? 0));
        });
        console.log(
          JSON.stringify({
            part: 'sd3-native',
            ...at,
            createMs,
            msPerStep: middle(ms),
            allMs: ms,
            maxAbsDiff,
            maxAbsRef,
            relL2: relativeL2(got, reference),
            ...(baseline === undefined ? {} : { relL2VsBaseline: relativeL2(got, baseline) }),
          }),
        );
      } catch (error) {
        console.log(
          JSON.stringify({ part: 'sd3-native', ...at, error: String(error).slice(0, 600) }),
        );
      } finally {
        session?.release();
      }
    }
  }
}
