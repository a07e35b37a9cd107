import type { RunnerChoice } from '../runner/index.ts';
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
import type { VideoClipRequest, VideoResult } from '../sampler/video/index.ts';
import { Call, SamplerThreadLostError, ThreadHandle } from './sampler-thread-handle.ts';
import type { SamplerOutput, SamplerWork, ThreadData } from './sampler-thread-protocol.ts';
import type { Sampler, SamplerModel } from './sampler-port.ts';

export { SamplerThreadLostError };

export interface ThreadSamplerOptions {
  readonly modelDirs: readonly string[];
  readonly device: DeviceOption;
  /** onnxruntime intra-op threads per session (default: onnxruntime's, one per core). */
  readonly threads?: number | undefined;
  /** The binding the graphs run through; the native one falls back to stock where it cannot load. */
  readonly runner?: RunnerChoice | undefined;
  /** The folder with ditserve's custom-op library builds (DITSERVE_OPS_DIR). */
  readonly opsDir?: string | undefined;
  /** Continuous batching through the model's step graph where it has one (default true). */
  readonly stepGraph?: boolean | undefined;
}

const canceledBeforeStart = (signal: AbortSignal) =>
  new GenerationCanceledError('generation canceled before it started', { cause: signal.reason });

class ThreadSampler implements Sampler {
  readonly models: ReadonlyMap<string, SamplerModel>;
  readonly #data: ThreadData;
  #thread: ThreadHandle;
  /** A fresh thread on its way, shared by every call that waits for it. */
  #restart: Promise<ThreadHandle> | null = null;
  /** Calls waiting for a fresh thread: none has reached a thread yet. */
  readonly #waiting = new Set<Call>();
  /** Calls on the thread. */
  readonly #running = new Set<Call>();
  /** Each call's way to the thread and back; release() waits for all of them. */
  readonly #inFlight = new Set<Promise<void>>();
  #released: Promise<void> | null = null;

  constructor(data: ThreadData, thread: ThreadHandle, models: readonly SamplerModel[]) {
    this.#data = data;
    this.#thread = thread;
    this.models = new Map(models.map((m) => [m.name, m]));
  }

  /**
   * Calls run on the thread at once, not one after another: the sampler shares each denoising
   * step among the calls on one model (continuous batching), and on a model without a step
   * graph (every video model) the calls' steps interleave.
   */
  async generate(
    model: string,
    requests: readonly GenerationRequest[],
    options: GenerateOptions = {},
  ): Promise<GenerationResult[]> {
    const output = await this.#call(model, { kind: 'images', requests }, options);
    if (output.kind !== 'images') throw new Error('the sampler thread answered with clips');
    return output.results;
  }

  async generateVideos(
    model: string,
    clips: readonly VideoClipRequest[],
    options: GenerateOptions = {},
  ): Promise<VideoResult[]> {
    const output = await this.#call(model, { kind: 'videos', clips }, options);
    if (output.kind !== 'videos') throw new Error('the sampler thread answered with images');
    return output.clips;
  }

  #call(model: string, work: SamplerWork, options: GenerateOptions): Promise<SamplerOutput> {
    if (this.#released) return Promise.reject(new Error('the sampler has been released'));
    if (!this.models.has(model)) return Promise.reject(new Error(`model ${model} is not loaded`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(canceledBeforeStart(signal));
    const call = new Call(model, work, options);
    if (signal) {
      const onAbort = () => {
        // One that never reached a thread need not wait for one to start.
        if (this.#waiting.delete(call)) call.reject(canceledBeforeStart(signal));
        else call.abort();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.onSettle(() => {
        signal.removeEventListener('abort', onAbort);
      });
    }
    const flight = this.#send(call).finally(() => this.#inFlight.delete(flight));
    this.#inFlight.add(flight);
    return call.promise;
  }

  /** Takes a call to the thread (a fresh one when the last has died); done when the thread is. */
  async #send(call: Call): Promise<void> {
    try {
      let thread = this.#thread;
      if (!thread.alive) {
        this.#waiting.add(call);
        try {
          thread = await this.#fresh();
        } finally {
          this.#waiting.delete(call);
        }
        // Canceled or released while the thread started.
        if (call.settled) return;
      }
      this.#running.add(call);
      await thread.run(call);
    } catch (error) {
      call.reject(error);
    } finally {
      this.#running.delete(call);
    }
  }

  #fresh(): Promise<ThreadHandle> {
    this.#restart ??= ThreadHandle.start(this.#data)
      .then(
        ({ thread }) => (this.#thread = thread),
        (error: unknown) => {
          throw new SamplerThreadLostError(
            `the sampler thread died and a fresh one could not start: ${(error as Error).message}`,
            { cause: error },
          );
        },
      )
      .finally(() => {
        // The next death starts another; so does the next call after a start that failed.
        this.#restart = null;
      });
    return this.#restart;
  }

  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    const gone = new Error('the sampler has been released');
    for (const call of this.#waiting) call.reject(gone);
    // Sessions must not be freed under a running step: stop every call, then wait for them.
    for (const call of this.#running) call.abort();
    await Promise.all(this.#inFlight);
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
    opsDir: options.opsDir,
    stepGraph: options.stepGraph,
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
