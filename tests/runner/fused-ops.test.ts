import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrtError,
  openNativeRunner,
  openStockRunner,
  type Runner,
  type RunnerTensor,
} from '../../gpu-worker/src/runner/index.ts';
import { ORT_API } from '../../gpu-worker/src/runner/ort-api-table.ts';
import {
  FP16_STEP,
  FUSED_OPS_FIXTURES,
  compareOutputs,
  fusedOpsFeeds,
  fusedOpsShapes,
} from '../helpers/fused-ops-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// The fused-op library (gpu-worker/ops) built for the CPU provider, against onnxruntime's own
// ops computing the same. The CUDA build runs the same graphs on the GPU machine
// (bench/gpu/fused-ops.cuda.ts, docs/gpu.md).
const OPS = join(import.meta.dirname, '../../gpu-worker/ops');
const shapes = fusedOpsShapes();

describe('ditserve fused ops on the CPU (custom-op library)', () => {
  let library: string;
  let fused: Runner;
  let reference: Runner;
  beforeAll(async () => {
    const out = await tempDir('fused-ops-');
    library = execFileSync('bash', [join(OPS, 'build.sh'), 'cpu', out], {
      encoding: 'utf8',
    }).trim();
    fused = await openNativeRunner(join(FUSED_OPS_FIXTURES, 'fused.onnx'), {
      device: 'cpu',
      customOpsLibrary: library,
    });
    reference = await openNativeRunner(join(FUSED_OPS_FIXTURES, 'reference.onnx'), {
      device: 'cpu',
    });
  }, 120_000);
  afterAll(async () => {
    await fused.release();
    await reference.release();
  });

  it('computes what onnxruntime’s own ops compute, output by output', async () => {
    const feeds = fusedOpsFeeds(shapes);
    const [got, want] = await Promise.all([fused.run(feeds), reference.run(feeds)]);
    const comparison = compareOutputs(shapes, got, want);
    for (const [name, dims] of Object.entries(shapes.outputs)) {
      expect(comparison[name]?.dims, name).toEqual(dims);
      // Both round through fp16; what is left is float32 arithmetic order: one fp16 step at most.
      expect(comparison[name]?.worst, name).toBeLessThanOrEqual(FP16_STEP);
    }
    // The normalised q is not the raw input (a pass-through would also match a broken reference).
    const q = got.q?.data as Float32Array;
    const raw = feeds.qkv_text?.data as Float32Array;
    expect(q.slice(0, 64)).not.toEqual(raw.slice(0, 64));
  });

  it('refuses a misshapen input with the op’s own message, as an OrtError', async () => {
    const bias: RunnerTensor = { type: 'float32', data: new Float32Array(3), dims: [3] };
    const bad = fused.run({ ...fusedOpsFeeds(shapes), bias });
    await expect(bad).rejects.toBeInstanceOf(OrtError);
    await expect(bad).rejects.toThrow(/GateResidual(Norm)?: bias must hold dim = 128 values/);
  });

  it('the stock binding refuses a custom-op library instead of ignoring it', async () => {
    await expect(
      openStockRunner(join(FUSED_OPS_FIXTURES, 'fused.onnx'), {
        device: 'cpu',
        customOpsLibrary: library,
      }),
    ).rejects.toBeInstanceOf(OrtError);
  });

  it('a graph with the ops does not load without the library', async () => {
    await expect(
      openNativeRunner(join(FUSED_OPS_FIXTURES, 'fused.onnx'), { device: 'cpu' }),
    ).rejects.toThrow(/ditserve:\w+\(-1\) is not a registered function\/op/);
  });
});

describe('ditserve FP8 linear ops on the CPU (custom-op library)', () => {
  const dir = join(FUSED_OPS_FIXTURES, 'fp8');
  const fp8Shapes = fusedOpsShapes(dir);
  let fused: Runner;
  let reference: Runner;
  beforeAll(async () => {
    const out = await tempDir('fused-ops-fp8-');
    const library = execFileSync('bash', [join(OPS, 'build.sh'), 'cpu', out], {
      encoding: 'utf8',
    }).trim();
    fused = await openNativeRunner(join(dir, 'fused.onnx'), {
      device: 'cpu',
      customOpsLibrary: library,
    });
    // QuantizeLinear to FLOAT8E4M3FN (saturating, ties to even) and float32 products.
    reference = await openNativeRunner(join(dir, 'reference.onnx'), { device: 'cpu' });
  }, 120_000);
  afterAll(async () => {
    await fused.release();
    await reference.release();
  });

  it('quantizes and multiplies as onnxruntime’s QuantizeLinear and MatMul do', async () => {
    const feeds = fusedOpsFeeds(fp8Shapes);
    const [got, want] = await Promise.all([fused.run(feeds), reference.run(feeds)]);
    const comparison = compareOutputs(fp8Shapes, got, want);
    for (const [name, dims] of Object.entries(fp8Shapes.outputs)) {
      expect(comparison[name]?.dims, name).toEqual(dims);
      expect(comparison[name]?.worst, name).toBeLessThanOrEqual(FP16_STEP);
    }
    // Both sides producing nothing would also agree.
    for (const name of Object.keys(fp8Shapes.outputs)) {
      const values = got[name]?.data as Float32Array;
      expect(Math.max(...values.map(Math.abs)), name).toBeGreaterThan(0.1);
    }
  });

  it('refuses an input of the wrong width with the op’s own message', async () => {
    // wide_x feeds one op only (LinearFp8), so the message is that op's.
    const wide_x: RunnerTensor = {
      type: 'float32',
      data: new Float32Array(2 * 4 * 192),
      dims: [2, 4, 192],
    };
    await expect(fused.run({ ...fusedOpsFeeds(fp8Shapes), wide_x })).rejects.toThrow(
      /LinearFp8: weight must be \[out, in\] with in = 192/,
    );
  });
});

describe('the op library’s view of the C API', () => {
  it('uses the OrtApi indices of the generated table', () => {
    const header = readFileSync(join(OPS, 'ort_abi.h'), 'utf8');
    const entries = [...header.matchAll(/^\s+k(\w+) = (\d+),$/gm)];
    expect(entries.length).toBeGreaterThan(10);
    for (const [, name, index] of entries) {
      expect(ORT_API[name as keyof typeof ORT_API], name).toBe(Number(index));
    }
  });
});
