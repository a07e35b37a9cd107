/**
 * One sampler thread's lifetime, from start to exit: thread-sampler.ts hands it calls (any number
 * at once, each answered by its id) and starts a fresh handle when this one's thread has died.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DitserveError } from '../../../core/errors.ts';
import type { GenerateOptions } from '../sampler/index.ts';
import {
  fromWire,
  type FromThread,
  type SamplerOutput,
  type SamplerWork,
  type ThreadData,
  type ToThread,
} from './sampler-thread-protocol.ts';
import type { SamplerModel } from './sampler-port.ts';

/**
 * The sampler thread ended under a call (an uncaught error or a process.exit() in its code or
 * a dependency's) or a fresh one could not start. Nothing was wrong with the request: retrying
 * it starts a fresh thread. (A crash in native code takes the whole process, not just the thread.)
 */
export class SamplerThreadLostError extends DitserveError {
  readonly code = 'internal';
  readonly retryable = true;
}

// The entry sits next to this module with this module's extension: sampler-thread.ts from
// source, .js from `npm run build`, .mjs next to an esbuild bundle (scripts/bundle-gpu.ts).
const EXT = extname(fileURLToPath(import.meta.url));
const ENTRY = new URL(`./sampler-thread${EXT}`, import.meta.url);

// A worker thread does not inherit tsx's loader (nor does `execArgv: ['--import', 'tsx']` give
// it one), so from source the thread registers tsx itself before importing the entry. An eval'd
// script is CommonJS: dynamic import() is what reaches the ES modules.
const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { tsx, entry } = workerData.bootstrap;
import(tsx).then((api) => { api.register(); return import(entry); });
`;

function spawn(data: ThreadData): Worker {
  if (EXT !== '.ts') return new Worker(ENTRY, { workerData: data });
  const bootstrap = { entry: ENTRY.href, tsx: import.meta.resolve('tsx/esm/api') };
  return new Worker(TSX_BOOTSTRAP, { eval: true, workerData: { ...data, bootstrap } });
}

/**
 * A generate() or generateVideos() call: settled once, either by the thread's answer or earlier
 * by the caller.
 */
export class Call {
  /** Shared with the thread: [0] = 1 asks it to stop at the next step. */
  readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  readonly promise: Promise<SamplerOutput>;
  #settled = false;
  readonly #onSettle: (() => void)[] = [];
  #resolve!: (output: SamplerOutput) => void;
  #reject!: (error: unknown) => void;

  constructor(
    readonly model: string,
    readonly work: SamplerWork,
    readonly options: GenerateOptions,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Runs `f` once the call is settled (without handling the caller's rejection for them). */
  onSettle(f: () => void): void {
    this.#onSettle.push(f);
  }

  resolve(output: SamplerOutput): void {
    if (this.#settle()) this.#resolve(output);
  }

  reject(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    for (const f of this.#onSettle.splice(0)) f();
    return true;
  }

  abort(): void {
    Atomics.store(this.cancel, 0, 1);
  }
}

interface Running {
  readonly call: Call;
  /** Called once the thread is done with the call (it answered, or it is gone). */
  readonly done: () => void;
}

export class ThreadHandle {
  readonly #worker: Worker;
  readonly #ready: Promise<SamplerModel[]>;
  #onReady!: { resolve: (m: SamplerModel[]) => void; reject: (e: unknown) => void };
  /** The calls the thread holds, by the id their answers carry. */
  readonly #running = new Map<number, Running>();
  #nextId = 0;
  #alive = true;
  #lastError: Error | undefined;
  readonly #exited: Promise<void>;

  private constructor(data: ThreadData) {
    this.#ready = new Promise((resolve, reject) => {
      this.#onReady = { resolve, reject };
    });
    this.#worker = spawn(data);
    this.#worker.on('message', (m: FromThread) => {
      this.#receive(m);
    });
    this.#worker.on('error', (error) => {
      this.#lastError = error;
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#exit(code);
        resolve();
      });
    });
  }

  /** Starts a thread and waits until it has loaded and warmed every model. */
  static async start(data: ThreadData): Promise<{ thread: ThreadHandle; models: SamplerModel[] }> {
    const thread = new ThreadHandle(data);
    let models: SamplerModel[];
    try {
      models = await thread.#ready;
    } catch (error) {
      // A model that failed may leave others' sessions open in the thread.
      await thread.#worker.terminate();
      throw error;
    }
    // Idle, the thread does not keep the process alive (the in-process sampler would not).
    thread.#worker.unref();
    return { thread, models };
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Runs a call on the thread, next to those it already runs; resolves once it is done with it. */
  run(call: Call): Promise<void> {
    if (!this.#alive) throw new Error('the sampler thread is not running');
    const id = ++this.#nextId;
    const message: ToThread = {
      type: 'generate',
      id,
      model: call.model,
      work: call.work,
      cancel: call.cancel.buffer,
    };
    return new Promise((done) => {
      try {
        this.#worker.postMessage(message);
      } catch (error) {
        // E.g. a request field that cannot be cloned; the thread never saw the call.
        call.reject(error);
        done();
        return;
      }
      // While it holds a call, the thread keeps the process alive (the caller waits on it).
      this.#worker.ref();
      this.#running.set(id, {
        call,
        done: () => {
          this.#running.delete(id);
          if (this.#alive && this.#running.size === 0) this.#worker.unref();
          done();
        },
      });
    });
  }

  /** Frees the thread's sessions and ends it. */
  async release(): Promise<void> {
    if (!this.#alive) return;
    this.#worker.postMessage({ type: 'release' } satisfies ToThread);
    this.#worker.ref();
    await this.#exited;
  }

  /** For tests only (to end the thread as a crash would, or to see that it ended). */
  get worker(): Worker {
    return this.#worker;
  }

  #receive(m: FromThread): void {
    switch (m.type) {
      case 'ready':
        this.#onReady.resolve([...m.models]);
        return;
      case 'failed':
        this.#onReady.reject(fromWire(m.error));
        return;
      case 'released':
        void this.#worker.terminate();
        return;
      default:
        this.#answer(m);
    }
  }

  #answer(m: Extract<FromThread, { id: number }>): void {
    const running = this.#running.get(m.id);
    if (!running) return;
    const { call } = running;
    if (m.type === 'progress') {
      if (call.settled) return;
      try {
        call.options.onProgress?.(m.step, m.total, m.elapsedMs);
      } catch (error) {
        // As in-process, a throwing callback fails the call; the thread stops at the next step.
        call.reject(error);
        call.abort();
      }
      return;
    }
    if (m.type === 'result') {
      call.resolve(m.output);
    } else {
      const { signal } = call.options;
      call.reject(fromWire(m.error, signal?.aborted ? { cause: signal.reason } : undefined));
    }
    running.done();
  }

  #exit(code: number): void {
    this.#alive = false;
    const why = this.#lastError ? `: ${this.#lastError.message}` : '';
    const lost = new SamplerThreadLostError(
      `the sampler thread exited with code ${code}${why}; retrying starts a fresh thread`,
      { cause: this.#lastError },
    );
    // After a load failure or a release, nobody waits on these; otherwise they fail as lost.
    this.#onReady.reject(lost);
    for (const running of [...this.#running.values()]) {
      running.call.reject(lost);
      running.done();
    }
  }
}
