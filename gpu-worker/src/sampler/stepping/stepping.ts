import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { cudaRuntime, type CudaRuntime, type Stream } from '../../runner/cuda-runtime.ts';
import { openRunner, type Runner, type RunnerKind } from '../../runner/index.ts';
import type { Device } from '../../model-contract/devices.ts';
import type { ModelConfig } from '../model-config.ts';
import { openCudaGraphStepEngine } from './cuda-graph-step-engine.ts';
import { HostStepEngine } from './host-step-engine.ts';
import { count, type OpenStepEngine, type StepShape } from './step-engine.ts';
import { StepLoop } from './step-loop.ts';

/**
 * A model's step loops, one per latent size, over the engine its device and runner allow:
 * CUDA through the native runner → CUDA-graph engines (one session and graph per batch bucket);
 * anything else → host engines over one Runner of the step graph (dynamic shapes, so every batch
 * size is its own bucket).
 */
export interface Stepping {
  /** 'cuda-graph' or 'host' (with the runner kind): what the logs and benches report. */
  readonly engine: string;
  readonly buckets: readonly number[];
  /** Why the CUDA-graph engine is not used on CUDA (null otherwise). */
  readonly fallbackReason: string | null;
  /**
   * Batch sizes the VAE decodes in (a batch is padded up to one), or null for any size. On CUDA
   * every new input shape of a convolution costs cuDNN's algorithm search (onnxruntime's default
   * is exhaustive), so the decoder sees a few shapes, searched at load, instead of every count.
   */
  readonly decodeBuckets: readonly number[] | null;
  /** The loop of one latent size: [C, h, w], or [C, F, h, w] for a video model's clips. */
  loop(latent: readonly number[]): StepLoop;
  release(): Promise<void>;
}

/** Power-of-two buckets: each one a captured graph with its own buffers. */
export const CUDA_BUCKETS = [1, 2, 4, 8, 16, 32] as const;
const HOST_MAX_BATCH = 64;

export interface SteppingOptions {
  readonly device: Device;
  readonly runner: RunnerKind;
  readonly threads?: number;
  /** ditserve's custom-op library, where the model's graphs use it (OpenedSessions.opsLibrary). */
  readonly opsLibrary?: string | undefined;
  /** The step graph's further per-sample inputs for a latent size (StepShape.extras). */
  readonly extrasOf?: (latent: readonly number[]) => Readonly<Record<string, readonly number[]>>;
}

/** `n` padded up to a bucket (or to a multiple of the largest); `n` itself without buckets. */
export function paddedBatch(n: number, buckets: readonly number[] | null): number {
  if (!buckets || buckets.length === 0) return n;
  const largest = Math.max(...buckets);
  return buckets.find((b) => b >= n) ?? Math.ceil(n / largest) * largest;
}

/** The step graph's path for `device`, or null when the model has none. */
export async function stepGraphPath(config: ModelConfig, device: Device): Promise<string | null> {
  const files = config.manifest.stepGraph;
  const dir = config.componentDirs.transformer;
  if (!files || !dir) return null;
  const path = join(dir, files[device]);
  try {
    await access(path);
    return path;
  } catch {
    return null;
  }
}

export async function openStepping(
  config: ModelConfig,
  textLength: number,
  o: SteppingOptions,
): Promise<Stepping | null> {
  const path = await stepGraphPath(config, o.device);
  if (path === null) return null;
  const textWidth = config.textEncoder.hiddenSize;
  const shapeOf = (latent: readonly number[]): StepShape => ({
    latent,
    textLength,
    textWidth,
    ...(o.extrasOf ? { extras: o.extrasOf(latent) } : {}),
  });
  let fallbackReason: string | null = null;
  if (o.device === 'cuda' && o.runner === 'native') {
    try {
      const cuda = cudaRuntime();
      return cudaGraphStepping(path, cuda, cuda.createStream(), shapeOf, o.opsLibrary);
    } catch (error) {
      fallbackReason = `CUDA graphs unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const ops = o.opsLibrary === undefined ? {} : { customOpsLibrary: o.opsLibrary };
  const runner = await openRunner(
    o.runner,
    path,
    o.device === 'cuda'
      ? { device: 'cuda', ...ops }
      : { device: 'cpu', ...(o.threads ? { threads: o.threads } : {}), ...ops },
  );
  return hostStepping(
    runner,
    shapeOf,
    `host (${o.runner} runner)`,
    fallbackReason,
    o.device === 'cuda' ? CUDA_BUCKETS : null,
  );
}

type ShapeOf = (latent: readonly number[]) => StepShape;

function loops(
  open: (shape: StepShape) => OpenStepEngine,
  buckets: readonly number[],
  shapeOf: ShapeOf,
) {
  const byLatent = new Map<string, StepLoop>();
  return {
    loop: (latent: readonly number[]): StepLoop => {
      const key = latent.join('x');
      let loop = byLatent.get(key);
      if (!loop) {
        loop = new StepLoop({ buckets, openEngine: open(shapeOf(latent)) });
        byLatent.set(key, loop);
      }
      return loop;
    },
    close: async (): Promise<void> => {
      await Promise.all([...byLatent.values()].map((l) => l.close()));
      byLatent.clear();
    },
  };
}

function hostStepping(
  runner: Runner,
  shapeOf: ShapeOf,
  engine: string,
  fallbackReason: string | null,
  decodeBuckets: readonly number[] | null,
): Stepping {
  const buckets = Array.from({ length: HOST_MAX_BATCH }, (_, i) => i + 1);
  const l = loops(
    (shape) => (capacity) => Promise.resolve(new HostStepEngine(capacity, shape, runner)),
    buckets,
    shapeOf,
  );
  return {
    engine,
    buckets,
    fallbackReason,
    decodeBuckets,
    loop: l.loop,
    async release() {
      await l.close();
      await runner.release();
    },
  };
}

function cudaGraphStepping(
  path: string,
  cuda: CudaRuntime,
  stream: Stream,
  shapeOf: ShapeOf,
  customOpsLibrary: string | undefined,
): Stepping {
  const l = loops(
    (shape) => (capacity) =>
      openCudaGraphStepEngine({ path, capacity, shape, cuda, stream, customOpsLibrary }),
    CUDA_BUCKETS,
    shapeOf,
  );
  return {
    engine: 'cuda-graph',
    buckets: CUDA_BUCKETS,
    fallbackReason: null,
    decodeBuckets: CUDA_BUCKETS,
    loop: l.loop,
    async release() {
      await l.close();
      cuda.destroyStream(stream);
    },
  };
}

/**
 * Readies the loop of `latent` before any request: on CUDA graphs every bucket's engine opens
 * (and captures its graph); otherwise one step of a sample that does not move (σ′ = σ), with
 * zeros for its text and further inputs.
 */
export async function warmStepLoop(
  stepping: Stepping,
  latent: readonly number[],
  text: { readonly length: number; readonly width: number },
  extras: Readonly<Record<string, readonly number[]>> = {},
): Promise<void> {
  const loop = stepping.loop(latent);
  if (stepping.engine === 'cuda-graph') {
    await loop.warm();
    return;
  }
  const hidden = new Float32Array(text.length * text.width);
  const pooled = new Float32Array(text.width);
  await loop.submit({
    latents: new Float32Array(count(latent)),
    text: { condHidden: hidden, uncondHidden: hidden, condPooled: pooled, uncondPooled: pooled },
    extras: Object.fromEntries(
      Object.entries(extras).map(([name, dims]) => [name, new Float32Array(count(dims))]),
    ),
    sigmas: [1, 1],
    guidance: 1,
  });
}
