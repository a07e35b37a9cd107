/**
 * The port through which the sampler runs one ONNX graph. Two adapters: `stock-runner.ts`
 * (onnxruntime-node's InferenceSession) and `native-runner.ts` (our own calls into the C API of
 * the very same libonnxruntime, which is what CUDA graphs, device-resident IO binding and runs off
 * the JS thread need; docs/native-runner.md); `per-shape-runner.ts` puts one session of either
 * per input shape behind the port (CUDA convolutions). Tensors are plain typed arrays, so nothing
 * above this port sees either binding's types.
 */
import type { Device } from '../model-contract/devices.ts';

export type RunnerKind = 'stock' | 'native';
export const RUNNER_KINDS: readonly RunnerKind[] = ['stock', 'native'];
/** What a setting or flag may ask for: 'auto' is the native runner on CUDA, the stock one on the CPU. */
export type RunnerChoice = RunnerKind | 'auto';
export const RUNNER_CHOICES: readonly RunnerChoice[] = ['auto', 'stock', 'native'];

export interface Float32Tensor {
  readonly type: 'float32';
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
export interface Int64Tensor {
  readonly type: 'int64';
  readonly data: BigInt64Array;
  readonly dims: readonly number[];
}
export interface Uint8Tensor {
  readonly type: 'uint8';
  readonly data: Uint8Array;
  readonly dims: readonly number[];
}
/** A named input or output: row-major data and its shape. */
export type RunnerTensor = Float32Tensor | Int64Tensor | Uint8Tensor;
export type TensorMap = Readonly<Record<string, RunnerTensor>>;

/**
 * CUDA execution provider options (OrtCUDAProviderOptionsV2). Only the native runner can pass
 * more than the device id; the stock binding ignores everything else (onnxruntime-node reads
 * only `deviceId`).
 */
export interface CudaProviderOptions {
  readonly deviceId?: number;
  /** Capture the graph on the first run and replay it after (needs static shapes and IO binding). */
  readonly enableCudaGraph?: boolean;
  /** A cudaStream_t (its address) that the session runs on instead of its own. */
  readonly userComputeStream?: bigint;
  /** onnxruntime's attention-kernel bit mask (0 = its default choice; e.g. 8 = cuDNN flash). */
  readonly sdpaKernel?: number;
  /** Any further provider option by its onnxruntime name, e.g. { use_tf32: '0' }. */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface RunnerOptions {
  readonly device: Device;
  /** CPU: intra-op threads (inter-op is always 1: the graph runs its nodes in sequence). */
  readonly threads?: number;
  /** Native runner only, device 'cuda'. */
  readonly cuda?: CudaProviderOptions;
  /** Write onnxruntime's profile (chrome-trace JSON) to `<prefix>_<date>.json`; see endProfiling. */
  readonly profilePrefix?: string;
  /**
   * Fixes symbolic dimensions of the graph's inputs (onnxruntime's free-dimension overrides),
   * e.g. { batch: 4, height: 16, width: 16 }: every shape computation then folds into constants,
   * which a CUDA graph needs. Runs must then feed exactly those sizes.
   */
  readonly freeDimensions?: Readonly<Record<string, number>>;
  /** Native runner only: write the graph onnxruntime optimized to this path (for inspection). */
  readonly optimizedModelPath?: string;
  /**
   * Native runner only: a custom-op library the session registers before loading the graph
   * (RegisterCustomOpsLibrary_V2), e.g. ditserve's fused ops (docs/custom-ops.md). The stock
   * binding cannot register one and refuses the option.
   */
  readonly customOpsLibrary?: string;
}

/** Per-run settings; only the native runner can pass run config entries. */
export interface RunSettings {
  /**
   * onnxruntime run config entries, e.g. { gpu_graph_id: '1',
   * disable_synchronize_execution_providers: '1' } (onnxruntime_run_options_config_keys.h).
   */
  readonly config?: Readonly<Record<string, string>>;
}

/** One opened ONNX graph. */
export interface Runner {
  readonly kind: RunnerKind;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the graph on `feeds` (exactly the graph's inputs) and returns every output. Feeds that
   * do not match the inputs reject with RunnerInputError before anything runs; onnxruntime's
   * own refusals reject with OrtError.
   */
  run(feeds: TensorMap, settings?: RunSettings): Promise<Record<string, RunnerTensor>>;
  /**
   * Ends profiling (opened with `profilePrefix`) and resolves to the profile file's path where
   * the binding reports it (the stock binding does not: null).
   */
  endProfiling(): Promise<string | null>;
  /** Frees the session after any runs in flight end; later calls do nothing. */
  release(): Promise<void>;
}

/** Opens a runner for the ONNX file at `path`. */
export type OpenRunner = (path: string, options: RunnerOptions) => Promise<Runner>;
