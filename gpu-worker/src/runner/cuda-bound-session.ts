import type { DevicePtr, Stream } from './cuda-runtime.ts';
import { OrtError, RunnerInputError } from './errors.ts';
import { createNativeSession, releaseSession, type NativeSession } from './native-runner.ts';
import type { Handle, Out } from './ort-c-api.ts';

/**
 * A CUDA session whose inputs and outputs are device buffers bound once (OrtIoBinding over
 * memory we allocated), run on our own stream. With `cudaGraph`, onnxruntime captures the graph
 * at the first run and replays it after: one launch per run instead of one per kernel. A run
 * neither copies nor synchronises: what the caller queues on the same stream before and after
 * it is ordered with it, and the caller synchronises where it needs the results.
 */

/** A float32 device tensor: its address and shape. */
export interface DeviceTensor {
  readonly ptr: DevicePtr;
  readonly dims: readonly number[];
}

export interface CudaBoundSessionOptions {
  readonly deviceId?: number;
  readonly stream: Stream;
  /** Capture the run as a CUDA graph (needs every shape fixed: see `freeDimensions`). */
  readonly cudaGraph: boolean;
  readonly freeDimensions?: Readonly<Record<string, number>>;
  /** onnxruntime's attention-kernel mask (CudaProviderOptions.sdpaKernel). */
  readonly sdpaKernel?: number;
  readonly profilePrefix?: string;
  /** Write the graph as onnxruntime optimized it for the CUDA provider (for its census). */
  readonly optimizedModelPath?: string;
  /** A custom-op library to register (RunnerOptions.customOpsLibrary). */
  readonly customOpsLibrary?: string;
}

// OrtAllocatorType OrtDeviceAllocator = 0, OrtMemTypeDefault = 0, ONNX float = 1.
const DEVICE_ALLOCATOR = 0;
const MEM_TYPE_DEFAULT = 0;
const FLOAT = 1;

export class CudaBoundSession {
  readonly #s: NativeSession;
  readonly #memory: Handle;
  readonly #runOptions: Handle;
  #binding: Handle | null = null;
  #values: Handle[] = [];
  #released = false;

  private constructor(s: NativeSession, memory: Handle, runOptions: Handle) {
    this.#s = s;
    this.#memory = memory;
    this.#runOptions = runOptions;
  }

  static async open(path: string, options: CudaBoundSessionOptions): Promise<CudaBoundSession> {
    const s = await createNativeSession(path, {
      device: 'cuda',
      cuda: {
        deviceId: options.deviceId ?? 0,
        enableCudaGraph: options.cudaGraph,
        userComputeStream: options.stream,
        ...(options.sdpaKernel === undefined ? {} : { sdpaKernel: options.sdpaKernel }),
      },
      ...(options.freeDimensions ? { freeDimensions: options.freeDimensions } : {}),
      ...(options.profilePrefix === undefined ? {} : { profilePrefix: options.profilePrefix }),
      ...(options.optimizedModelPath === undefined
        ? {}
        : { optimizedModelPath: options.optimizedModelPath }),
      ...(options.customOpsLibrary === undefined
        ? {}
        : { customOpsLibrary: options.customOpsLibrary }),
    });
    const { fn, check } = s.api;
    const out: Out = [null];
    let memory: Handle | null = null;
    try {
      check(
        fn.CreateMemoryInfo('Cuda', DEVICE_ALLOCATOR, options.deviceId ?? 0, MEM_TYPE_DEFAULT, out),
      );
      memory = out[0];
      check(fn.CreateRunOptions(out));
      const runOptions = out[0];
      if (memory === null || runOptions === null)
        throw new OrtError('no memory info or run options', 'unknown');
      // The caller synchronises (progress, cancel and read-back points), not every run.
      check(fn.AddRunConfigEntry(runOptions, 'disable_synchronize_execution_providers', '1'));
      return new CudaBoundSession(s, memory, runOptions);
    } catch (error) {
      if (memory !== null) fn.ReleaseMemoryInfo(memory);
      releaseSession(s);
      throw error;
    }
  }

  get inputNames(): readonly string[] {
    return this.#s.inputNames;
  }

  /** Binds every input and output to a device buffer, once; a CUDA graph keeps these addresses. */
  bind(
    inputs: Readonly<Record<string, DeviceTensor>>,
    outputs: Readonly<Record<string, DeviceTensor>>,
  ): void {
    const { fn, check } = this.#s.api;
    for (const [side, names, tensors] of [
      ['input', this.#s.inputNames, inputs],
      ['output', this.#s.outputNames, outputs],
    ] as const) {
      const missing = names.filter((n) => !(n in tensors));
      if (missing.length > 0)
        throw new RunnerInputError(`no device buffer for ${side} ${missing.join(', ')}`);
    }
    const out: Out = [null];
    check(fn.CreateIoBinding(this.#s.session, out));
    const binding = out[0];
    if (binding === null) throw new OrtError('CreateIoBinding gave no binding', 'unknown');
    this.#binding = binding;
    const value = (t: DeviceTensor): Handle => {
      const shape = BigInt64Array.from(t.dims, (d) => BigInt(d));
      const bytes = 4 * t.dims.reduce((n, d) => n * d, 1);
      check(
        fn.CreateTensorWithDataAsOrtValue(
          this.#memory,
          t.ptr,
          bytes,
          shape,
          shape.length,
          FLOAT,
          out,
        ),
      );
      const v = out[0];
      if (v === null) throw new OrtError('CreateTensorWithDataAsOrtValue gave no value', 'unknown');
      this.#values.push(v);
      return v;
    };
    const at = (tensors: Readonly<Record<string, DeviceTensor>>, name: string): DeviceTensor => {
      const t = tensors[name];
      if (!t) throw new RunnerInputError(`no device buffer for ${name}`);
      return t;
    };
    for (const name of this.#s.inputNames)
      check(fn.BindInput(binding, name, value(at(inputs, name))));
    for (const name of this.#s.outputNames)
      check(fn.BindOutput(binding, name, value(at(outputs, name))));
  }

  /** Queues one run on the stream (the first with `cudaGraph` captures; later ones replay). */
  run(): void {
    if (this.#binding === null) throw new RunnerInputError('run() before bind()');
    const { fn, check } = this.#s.api;
    check(fn.RunWithBinding(this.#s.session, this.#runOptions, this.#binding));
  }

  /** Ends profiling (opened with `profilePrefix`); the profile file's path, or null. */
  endProfiling(): string | null {
    const { fn, check, allocator, takeString } = this.#s.api;
    const out: Out = [null];
    check(fn.SessionEndProfiling(this.#s.session, allocator, out));
    const path = out[0] === null ? '' : takeString(out[0]);
    return path === '' ? null : path;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    const { fn } = this.#s.api;
    if (this.#binding !== null) fn.ReleaseIoBinding(this.#binding);
    for (const v of this.#values) fn.ReleaseValue(v);
    fn.ReleaseRunOptions(this.#runOptions);
    fn.ReleaseMemoryInfo(this.#memory);
    releaseSession(this.#s);
  }
}
