import * as ort from 'onnxruntime-node';
import { OrtError, RunnerReleasedError } from './errors.ts';
import { checkFeeds } from './feeds.ts';
import type { Runner, RunnerOptions, RunnerTensor, TensorMap } from './runner.ts';

/**
 * The Runner over onnxruntime-node's InferenceSession: the sampler's behaviour before the port
 * existed (same session options, same runs). Its run() executes on the JS thread; CUDA gets
 * only the device id (docs/native-runner.md).
 */

function sessionOptions(options: RunnerOptions): ort.InferenceSession.SessionOptions {
  // Warnings (e.g. about nodes placed on the CPU) go nowhere useful in a CLI or worker log.
  const common = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(options.profilePrefix === undefined
      ? {}
      : { enableProfiling: true, profileFilePrefix: options.profilePrefix }),
  } as const;
  if (options.device === 'cuda') {
    const deviceId = options.cuda?.deviceId;
    return {
      ...common,
      executionProviders: [deviceId === undefined ? 'cuda' : { name: 'cuda', deviceId }],
    };
  }
  return {
    ...common,
    executionProviders: ['cpu'],
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
    interOpNumThreads: 1,
  };
}

function toOrt(tensor: RunnerTensor): ort.Tensor {
  switch (tensor.type) {
    case 'float32':
      return new ort.Tensor('float32', tensor.data, tensor.dims);
    case 'int64':
      return new ort.Tensor('int64', tensor.data, tensor.dims);
    case 'uint8':
      return new ort.Tensor('uint8', tensor.data, tensor.dims);
  }
}

function fromOrt(name: string, value: ort.OnnxValue): RunnerTensor {
  if (value instanceof ort.Tensor) {
    if (value.data instanceof Float32Array) {
      return { type: 'float32', data: value.data, dims: value.dims };
    }
    if (value.data instanceof BigInt64Array) {
      return { type: 'int64', data: value.data, dims: value.dims };
    }
    if (value.type === 'uint8' && value.data instanceof Uint8Array) {
      return { type: 'uint8', data: value.data, dims: value.dims };
    }
  }
  throw new OrtError(`output ${name} is not a float32, int64 or uint8 tensor`, 'unknown');
}

/** onnxruntime-node throws plain Errors with onnxruntime's message: keep it, type it. */
function translate(error: unknown): unknown {
  return error instanceof Error ? new OrtError(error.message, 'unknown', { cause: error }) : error;
}

class StockRunner implements Runner {
  readonly kind = 'stock';
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  #released: Promise<void> | null = null;

  constructor(readonly session: ort.InferenceSession) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  async run(feeds: TensorMap): Promise<Record<string, RunnerTensor>> {
    if (this.#released) throw new RunnerReleasedError('run() on a released runner');
    checkFeeds(this.inputNames, feeds);
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) inputs[name] = toOrt(tensor);
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run(inputs);
    } catch (error) {
      throw translate(error);
    }
    const outputs: Record<string, RunnerTensor> = {};
    for (const [name, value] of Object.entries(result)) outputs[name] = fromOrt(name, value);
    return outputs;
  }

  endProfiling(): Promise<string | null> {
    if (this.#released)
      return Promise.reject(new RunnerReleasedError('endProfiling() after release'));
    // The binding writes the file but does not say where (its endProfiling returns nothing).
    this.session.endProfiling();
    return Promise.resolve(null);
  }

  release(): Promise<void> {
    this.#released ??= this.session.release();
    return this.#released;
  }
}

/** A Runner over a session opened elsewhere (e.g. a bench's own session options). */
export function stockRunnerFrom(session: ort.InferenceSession): Runner {
  return new StockRunner(session);
}

/** Opens `path` with onnxruntime-node; onnxruntime's refusal is an OrtError with its message. */
export async function openStockRunner(path: string, options: RunnerOptions): Promise<Runner> {
  if (options.customOpsLibrary !== undefined) {
    throw new OrtError(
      `onnxruntime-node cannot register a custom-op library (${options.customOpsLibrary}): use the native runner`,
      'ORT_INVALID_ARGUMENT',
    );
  }
  try {
    return new StockRunner(await ort.InferenceSession.create(path, sessionOptions(options)));
  } catch (error) {
    throw translate(error);
  }
}

/** Whether this onnxruntime-node build can load a CUDA execution provider at all. */
export function cudaListed(): boolean {
  return ort.listSupportedBackends().some((backend) => backend.name === 'cuda');
}

/**
 * Hides onnxruntime's own log lines below fatal (process-wide; only before the first session):
 * an expected failed CUDA probe would otherwise print the provider's load error in red.
 */
export function quietOnnxruntimeLog(): void {
  ort.env.logLevel = 'fatal';
}
