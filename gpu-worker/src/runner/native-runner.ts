import { cudaProviderEntries } from './cuda-provider-options.ts';
import { CudaProviderError, OrtError, RunnerReleasedError } from './errors.ts';
import { checkFeeds } from './feeds.ts';
import { createTensor, readTensor } from './native-tensors.ts';
import {
  callAsync,
  nativePointers,
  ortCApi,
  type Handle,
  type OrtCApi,
  type Out,
} from './ort-c-api.ts';
import type {
  CudaProviderOptions,
  Runner,
  RunnerOptions,
  RunnerTensor,
  RunSettings,
  TensorMap,
} from './runner.ts';

/**
 * The Runner over onnxruntime's C API (koffi; docs/native-runner.md). Session options mirror the
 * stock runner's exactly, so the CPU path computes the same bytes. Runs (and session creation)
 * go through koffi's async calls: onnxruntime computes on a koffi worker thread while the event
 * loop keeps running.
 *
 * Ownership: a runner owns its OrtEnv reference, session options, session and CPU memory info,
 * and releases each exactly once in release(); every OrtValue, OrtRunOptions and OrtIoBinding
 * lives for one run and is released in that run's `finally`. A FinalizationRegistry frees the
 * long-lived handles of a runner that was dropped without release() (a safety net, not the rule).
 */

export interface NativeRunnerOptions extends RunnerOptions {
  /**
   * Run through OrtIoBinding + RunWithBinding (outputs bound to CPU memory) instead of Run: the
   * path CUDA graphs and device-resident buffers will take. Same results on the CPU.
   */
  readonly ioBinding?: boolean;
}

// OrtLoggingLevel: 2 = warning (onnxruntime-node's env default), 3 = error (session level the
// stock runner sets). GraphOptimizationLevel 99 = ORT_ENABLE_ALL ('all').
const ENV_LOG_WARNING = 2;
const SESSION_LOG_ERROR = 3;
const ORT_ENABLE_ALL = 99;
// OrtAllocatorType OrtArenaAllocator = 1, OrtMemType OrtMemTypeDefault = 0 (as Ort::MemoryInfo::CreateCpu).
const ARENA_ALLOCATOR = 1;
const MEM_TYPE_DEFAULT = 0;

export interface Handles {
  env: Handle | null;
  options: Handle | null;
  session: Handle | null;
  cpuMemory: Handle | null;
}

function releaseHandles(api: OrtCApi, h: Handles): void {
  // Session before its options and env; each pointer is cleared so it is freed only once.
  if (h.session !== null) api.fn.ReleaseSession(h.session);
  if (h.options !== null) api.fn.ReleaseSessionOptions(h.options);
  if (h.cpuMemory !== null) api.fn.ReleaseMemoryInfo(h.cpuMemory);
  if (h.env !== null) api.fn.ReleaseEnv(h.env);
  h.session = h.options = h.cpuMemory = h.env = null;
}

const leaked = new FinalizationRegistry<Handles>((handles) => {
  releaseHandles(ortCApi(), handles);
});

function take(out: Out, what: string): Handle {
  const value = out[0];
  if (value === null) throw new OrtError(`${what} returned no handle`, 'unknown');
  return value;
}

/** Appends the CUDA provider (V2 options); any refusal is a CudaProviderError. */
function appendCuda(api: OrtCApi, sessionOptions: Handle, cuda: CudaProviderOptions = {}): void {
  const { fn, check } = api;
  const out: Out = [null];
  let options: Handle | null = null;
  try {
    check(fn.CreateCUDAProviderOptions(out));
    options = take(out, 'CreateCUDAProviderOptions');
    const entries = cudaProviderEntries(cuda);
    check(
      fn.UpdateCUDAProviderOptions(
        options,
        entries.map(([k]) => k),
        entries.map(([, v]) => v),
        entries.length,
      ),
    );
    if (cuda.userComputeStream !== undefined) {
      // Also sets has_user_compute_stream; the stream must outlive the session.
      check(
        fn.UpdateCUDAProviderOptionsWithValue(
          options,
          'user_compute_stream',
          cuda.userComputeStream,
        ),
      );
    }
    check(fn.SessionOptionsAppendExecutionProvider_CUDA_V2(sessionOptions, options));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new CudaProviderError(`the CUDA execution provider cannot be set up: ${message}`, {
      cause: error,
    });
  } finally {
    // onnxruntime copies the options into the session options on append.
    if (options !== null) fn.ReleaseCUDAProviderOptions(options);
  }
}

function names(api: OrtCApi, session: Handle, side: 'Input' | 'Output'): string[] {
  const { fn, check } = api;
  const count = [0];
  check(fn[`SessionGet${side}Count`](session, count));
  return Array.from({ length: count[0] ?? 0 }, (_, i) => {
    const out: Out = [null];
    check(fn[`SessionGet${side}Name`](session, i, api.allocator, out));
    return api.takeString(take(out, `SessionGet${side}Name`));
  });
}

class NativeRunner implements Runner {
  readonly kind = 'native';
  readonly #api: OrtCApi;
  readonly #handles: Handles;
  readonly #session: Handle;
  readonly #ioBinding: boolean;
  /**
   * CUDA: runs are made on the calling thread. On koffi's worker thread, session creation and
   * the VAE's runs (cuDNN) crashed the process on the GPU machine (docs/native-runner.md); the
   * worker keeps its event loop free anyway, by sampling on a worker_thread of its own.
   */
  readonly #onCallingThread: boolean;
  readonly #inFlight = new Set<Promise<unknown>>();
  #released: Promise<void> | null = null;

  constructor(
    api: OrtCApi,
    handles: Handles,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    ioBinding: boolean,
    onCallingThread: boolean,
  ) {
    this.#onCallingThread = onCallingThread;
    this.#api = api;
    this.#handles = handles;
    this.#session = take([handles.session], 'CreateSession');
    this.#ioBinding = ioBinding;
    leaked.register(this, handles, this);
  }

  run(feeds: TensorMap, settings: RunSettings = {}): Promise<Record<string, RunnerTensor>> {
    if (this.#released)
      return Promise.reject(new RunnerReleasedError('run() on a released runner'));
    const run = this.#run(feeds, settings);
    this.#inFlight.add(run);
    const forget = (): void => {
      this.#inFlight.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  async #run(feeds: TensorMap, settings: RunSettings): Promise<Record<string, RunnerTensor>> {
    checkFeeds(this.inputNames, feeds);
    const here = this.#onCallingThread;
    const call = (f: Parameters<typeof callAsync>[0], ...args: unknown[]): Promise<unknown> =>
      here ? Promise.resolve(f(...args)) : callAsync(f, ...args);
    const api = this.#api;
    const { fn, check } = api;
    const inputs: Handle[] = [];
    const outputs: (Handle | null)[] = this.outputNames.map(() => null);
    let runOptions: Handle | null = null;
    let binding: Handle | null = null;
    try {
      for (const name of this.inputNames) {
        const tensor = feeds[name];
        if (tensor) inputs.push(createTensor(api, tensor));
      }
      const config = Object.entries(settings.config ?? {});
      if (config.length > 0) {
        const out: Out = [null];
        check(fn.CreateRunOptions(out));
        runOptions = take(out, 'CreateRunOptions');
        for (const [key, value] of config) check(fn.AddRunConfigEntry(runOptions, key, value));
      }
      if (this.#ioBinding) {
        const out: Out = [null];
        check(fn.CreateIoBinding(this.#session, out));
        binding = take(out, 'CreateIoBinding');
        this.inputNames.forEach((name, i) => {
          check(fn.BindInput(binding, name, inputs[i]));
        });
        for (const name of this.outputNames) {
          check(fn.BindOutputToDevice(binding, name, this.#handles.cpuMemory));
        }
        check(await call(fn.RunWithBinding, this.#session, runOptions, binding));
        this.#boundOutputs(binding, outputs);
      } else {
        check(
          await call(
            fn.Run,
            this.#session,
            runOptions,
            this.inputNames,
            inputs,
            inputs.length,
            this.outputNames,
            this.outputNames.length,
            outputs,
          ),
        );
      }
      const result: Record<string, RunnerTensor> = {};
      this.outputNames.forEach((name, i) => {
        result[name] = readTensor(api, name, take([outputs[i] ?? null], `output ${name}`));
      });
      return result;
    } finally {
      for (const value of [...inputs, ...outputs]) if (value !== null) fn.ReleaseValue(value);
      if (binding !== null) fn.ReleaseIoBinding(binding);
      if (runOptions !== null) fn.ReleaseRunOptions(runOptions);
    }
  }

  /** The bound outputs in output order (each an OrtValue the run then owns and releases). */
  #boundOutputs(binding: Handle, outputs: (Handle | null)[]): void {
    const { fn, check } = this.#api;
    const values: Out = [null];
    const count = [0];
    check(fn.GetBoundOutputValues(binding, this.#api.allocator, values, count));
    const array = values[0];
    if (array === null) return;
    try {
      const n = count[0] ?? 0;
      const pointers = nativePointers(array, n);
      pointers.forEach((value, i) => {
        outputs[i] = value;
      });
    } finally {
      check(fn.AllocatorFree(this.#api.allocator, array));
    }
  }

  async endProfiling(): Promise<string | null> {
    if (this.#released) throw new RunnerReleasedError('endProfiling() after release');
    const out: Out = [null];
    this.#api.check(
      await callAsync(this.#api.fn.SessionEndProfiling, this.#session, this.#api.allocator, out),
    );
    const path = out[0] === null ? '' : this.#api.takeString(out[0]);
    return path === '' ? null : path;
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      // A session must not be freed under a run on a worker thread.
      await Promise.allSettled([...this.#inFlight]);
      leaked.unregister(this);
      releaseHandles(this.#api, this.#handles);
    })();
    return this.#released;
  }
}

/** An open session and what it owns (release with releaseSession). */
export interface NativeSession {
  readonly api: OrtCApi;
  readonly handles: Handles;
  readonly session: Handle;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

export function releaseSession(s: NativeSession): void {
  releaseHandles(s.api, s.handles);
}

/**
 * Creates a session for `path` through the C API with the stock runner's session options (plus
 * CUDA provider options V2, free-dimension overrides and profiling where asked). Every handle
 * made before a failure is released.
 */
export async function createNativeSession(
  path: string,
  options: RunnerOptions,
): Promise<NativeSession> {
  const api = ortCApi();
  const { fn, check } = api;
  const handles: Handles = { env: null, options: null, session: null, cpuMemory: null };
  try {
    const out: Out = [null];
    check(fn.CreateEnv(ENV_LOG_WARNING, 'ditserve', out));
    handles.env = take(out, 'CreateEnv');
    check(fn.CreateSessionOptions(out));
    const so = (handles.options = take(out, 'CreateSessionOptions'));
    check(fn.SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL));
    check(fn.SetSessionLogSeverityLevel(so, SESSION_LOG_ERROR));
    if (options.profilePrefix !== undefined) check(fn.EnableProfiling(so, options.profilePrefix));
    for (const [name, value] of Object.entries(options.freeDimensions ?? {})) {
      check(fn.AddFreeDimensionOverrideByName(so, name, value));
    }
    if (options.optimizedModelPath !== undefined) {
      check(fn.SetOptimizedModelFilePath(so, options.optimizedModelPath));
    }
    if (options.customOpsLibrary !== undefined) {
      check(fn.RegisterCustomOpsLibrary_V2(so, options.customOpsLibrary));
    }
    if (options.device === 'cuda') {
      appendCuda(api, so, options.cuda);
    } else {
      if (options.threads !== undefined) check(fn.SetIntraOpNumThreads(so, options.threads));
      check(fn.SetInterOpNumThreads(so, 1));
    }
    check(fn.CreateCpuMemoryInfo(ARENA_ALLOCATOR, MEM_TYPE_DEFAULT, out));
    handles.cpuMemory = take(out, 'CreateCpuMemoryInfo');
    // Loading parses and optimizes the graph: off the event loop on the CPU. A CUDA session is
    // created on this thread: creating the shipped fp16 transformer's on koffi's worker thread
    // crashed the process on the GPU machine, the same call made here did not
    // (docs/native-runner.md).
    if (options.device === 'cuda') check(fn.CreateSession(handles.env, path, so, out));
    else check(await callAsync(fn.CreateSession, handles.env, path, so, out));
    const session = (handles.session = take(out, 'CreateSession'));
    return {
      api,
      handles,
      session,
      inputNames: names(api, session, 'Input'),
      outputNames: names(api, session, 'Output'),
    };
  } catch (error) {
    releaseHandles(api, handles);
    throw error;
  }
}

/** Opens `path` as a Runner (see createNativeSession for the session options). */
export async function openNativeRunner(
  path: string,
  options: NativeRunnerOptions,
): Promise<Runner> {
  const s = await createNativeSession(path, options);
  return new NativeRunner(
    s.api,
    s.handles,
    s.inputNames,
    s.outputNames,
    options.ioBinding ?? false,
    options.device === 'cuda',
  );
}
