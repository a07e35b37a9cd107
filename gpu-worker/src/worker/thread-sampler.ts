import type { RunnerKind } from '../runner/index.ts';
/**
 * The ONNX sampler on a thread of its own. onnxruntime-node runs each session.run() on the
 * calling JS thread, so in-process a step blocks the worker's HTTP server, heartbeats and cancel
 * handling for its whole duration; here the main thread only passes messages.
 *
 * Call release() before process.exit(): a thread ended inside session.run() (by process.exit,
 * an uncaught error on the main thread, or Worker.terminate) makes onnxruntime's binding throw
 * into the dying thread, and that aborts the whole process (SIGABRT, exit status 134).
 */
import type { Worker } from 'node:worker_threads';
import { GenerationCanceledError } from '../sampler/errors.ts';
import type {
  DeviceOption,
  GenerateOptions,
  GenerationRequest,
  GenerationResult,
} from '../sampler/index.ts';
import { Call, SamplerThreadLostError, ThreadHandle } from './sampler-thread-handle.ts';
import type { ThreadData } from './sampler-thread-protocol.ts';
import type { Sampler, SamplerModel } from './sampler-port.ts';

export { SamplerThreadLostError };

export interface ThreadSamplerOptions {
  readonly modelDirs: readonly string[];
  readonly device: DeviceOption;
  /** onnxruntime intra-op threads per session (default: onnxruntime's, one per core). */
  readonly threads?: number | undefined;
  /** The binding the graphs run through; the native one falls back to stock where it cannot load. */
  readonly runner?: RunnerKind | undefined;
}

const canceledBeforeStart = (signal: AbortSignal) =>
  new GenerationCanceledError('generation canceled before it started', { cause: signal.reason });

class ThreadSampler implements Sampler {
  readonly models: ReadonlyMap<string, SamplerModel>;
  readonly #data: ThreadData;
  #thread: ThreadHandle;
  readonly #queue: Call[] = [];
  #current: Call | null = null;
  #pump: Promise<void> | null = null;
  #released: Promise<void> | null = null;

  constructor(data: ThreadData, thread: ThreadHandle, models: readonly SamplerModel[]) {
    this.#data = data;
    this.#thread = thread;
    this.models = new Map(models.map((m) => [m.name, m]));
  }

  generate(
    model: string,
    requests: readonly GenerationRequest[],
    options: GenerateOptions = {},
  ): Promise<GenerationResult[]> {
    if (this.#released) return Promise.reject(new Error('the sampler has been released'));
    if (!this.models.has(model)) return Promise.reject(new Error(`model ${model} is not loaded`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(canceledBeforeStart(signal));
    const call = new Call(model, requests, options);
    if (signal) {
      const onAbort = () => {
        const queued = this.#queue.indexOf(call);
        if (queued < 0) {
          call.abort();
          return;
        }
        // It never reached the thread: no need to wait for the call ahead of it.
        this.#queue.splice(queued, 1);
        call.reject(canceledBeforeStart(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.onSettle(() => {
        signal.removeEventListener('abort', onAbort);
      });
    }
    this.#queue.push(call);
    this.#pump ??= this.#drain();
    return call.promise;
  }

  /** One call at a time: a thread runs one generate(), and calls must not share its cores. */
  async #drain(): Promise<void> {
    for (let call = this.#queue.shift(); call; call = this.#queue.shift()) {
      this.#current = call;
      try {
        await (await this.#live()).run(call);
      } catch (error) {
        call.reject(error);
      }
    }
    this.#current = null;
    this.#pump = null;
  }

  /** The thread, or a fresh one when the last has died. */
  async #live(): Promise<ThreadHandle> {
    if (this.#thread.alive) return this.#thread;
    try {
      this.#thread = (await ThreadHandle.start(this.#data)).thread;
    } catch (error) {
      throw new SamplerThreadLostError(
        `the sampler thread died and a fresh one could not start: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return this.#thread;
  }

  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    const gone = new Error('the sampler has been released');
    for (const call of this.#queue.splice(0)) call.reject(gone);
    // Sessions must not be freed under a running step: stop the call, then wait for it.
    this.#current?.abort();
    await this.#pump;
    await this.#thread.release();
  }

  get threadForTests(): Worker {
    return this.#thread.worker;
  }
}

/**
 * Starts a thread that loads and warms every model folder (keyed by manifest name, as
 * loadModels does), and resolves once it is ready. Rejects with the loader's own error (e.g.
 * ModelNotFoundError) when a model cannot be loaded.
 */
export function startThreadSampler(options: ThreadSamplerOptions): Promise<Sampler> {
  return start(options);
}

async function start(
  options: ThreadSamplerOptions,
  exitAfterStepForTests?: number,
): Promise<ThreadSampler> {
  const data: ThreadData = {
    modelDirs: [...options.modelDirs],
    device: options.device,
    threads: options.threads,
    runner: options.runner,
  };
  const { thread, models } = await ThreadHandle.start({ ...data, exitAfterStepForTests });
  // Restarts use `data`: the fresh thread does not repeat a test's crash.
  return new ThreadSampler(data, thread, models);
}

/**
 * Tests only: a thread sampler whose first thread calls process.exit() after `step` steps of a
 * call, the way a crash ends it. (Worker.terminate() cannot stand in for a crash: inside
 * session.run() it makes onnxruntime's binding abort the whole process.)
 */
export function startExitingThreadSamplerForTests(
  options: ThreadSamplerOptions,
  step: number,
): Promise<Sampler> {
  return start(options, step);
}

/** Tests only: the Worker a thread sampler runs on now (to see that release() ended it). */
export function samplerThreadForTests(sampler: Sampler): Worker {
  if (!(sampler instanceof ThreadSampler)) throw new TypeError('not a thread sampler');
  return sampler.threadForTests;
}
