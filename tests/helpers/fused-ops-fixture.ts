import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunnerTensor } from '../../gpu-worker/src/runner/index.ts';

/**
 * The fused-op test graphs (tests/fixtures/fused-ops, written by
 * ditserve_train/fused_ops_graphs.py): their shapes, deterministic feeds, and the comparison
 * that the CPU test and the GPU machine's run (bench/gpu/fused-ops.cuda.ts) both make.
 */
export const FUSED_OPS_FIXTURES = join(import.meta.dirname, '../fixtures/fused-ops');

export interface FusedOpsShapes {
  readonly inputs: Record<string, number[]>;
  readonly outputs: Record<string, number[]>;
}

/** The graphs' shapes (a bundle passes the folder: its own location is not the repo's). */
export function fusedOpsShapes(dir = FUSED_OPS_FIXTURES): FusedOpsShapes {
  return JSON.parse(readFileSync(join(dir, 'shapes.json'), 'utf8')) as FusedOpsShapes;
}

const count = (dims: readonly number[]): number => dims.reduce((n, d) => n * d, 1);

/** Deterministic values in [-2, 2) (mulberry32), a different stream per seed. */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 4 - 2;
  });
}

export function fusedOpsFeeds(shapes: FusedOpsShapes): Record<string, RunnerTensor> {
  return Object.fromEntries(
    Object.entries(shapes.inputs).map(([name, dims], i) => [
      name,
      { type: 'float32', data: values(count(dims), 17 + i), dims } satisfies RunnerTensor,
    ]),
  );
}

/** How far an output may be off: one fp16 step (relative; both sides round through fp16). */
export const FP16_STEP = 2 ** -10;

/**
 * The FP8 graphs on CUDA: cuBLASLt's FP8 GEMM sums E4M3 products in the tensor cores'
 * accumulator (fast accumulation: fewer mantissa bits than float32, no promotion every few
 * products), so a few output steps against the float32 reference. The operands are the same
 * bytes on both sides: the E4M3 quantization itself agrees exactly.
 */
export const FP8_CUDA_STEP = 2 ** -8;

export interface OutputComparison {
  readonly dims: readonly number[] | undefined;
  readonly length: number;
  /** Largest |got − want| / max(1, |want|). */
  readonly worst: number;
  /** Share of values that are bit-identical. */
  readonly exact: number;
}

/** Output by output, how far `got` is from `want`. */
export function compareOutputs(
  shapes: FusedOpsShapes,
  got: Record<string, RunnerTensor>,
  want: Record<string, RunnerTensor>,
): Record<string, OutputComparison> {
  return Object.fromEntries(
    Object.keys(shapes.outputs).map((name) => {
      const g = (got[name]?.data ?? new Float32Array()) as Float32Array;
      const w = (want[name]?.data ?? new Float32Array()) as Float32Array;
      let worst = g.length === w.length ? 0 : Number.POSITIVE_INFINITY;
      let exact = 0;
      g.forEach((v, i) => {
        const ref = w[i] ?? Number.NaN;
        const d = Math.abs(v - ref) / Math.max(1, Math.abs(ref));
        worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
        if (v === ref) exact++;
      });
      return [
        name,
        { dims: got[name]?.dims, length: g.length, worst, exact: exact / Math.max(1, g.length) },
      ];
    }),
  );
}
