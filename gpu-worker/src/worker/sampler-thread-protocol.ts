import type { RunnerChoice } from '../runner/index.ts';
/**
 * The messages between a ThreadSampler (thread-sampler.ts) and its thread (sampler-thread.ts),
 * and the error codec: an Error crosses postMessage as a plain object, so the main side rebuilds
 * the sampler's own classes from `code` (callers check `isDitserveError(e) && e.code`).
 */
import { DitserveError, type ErrorCode } from '../../../core/errors.ts';
import type { DeviceOption, GenerationRequest, GenerationResult } from '../sampler/index.ts';
import type { VideoClipRequest, VideoResult } from '../sampler/video/index.ts';
import * as samplerErrors from '../sampler/errors.ts';
import type { SamplerModel } from './sampler-port.ts';

export interface ThreadData {
  readonly modelDirs: readonly string[];
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
  readonly runner?: RunnerChoice | undefined;
  /** The folder with ditserve's custom-op library builds (DITSERVE_OPS_DIR). */
  readonly opsDir?: string | undefined;
  /** Continuous batching through the model's step graph (LoadModelsOptions.stepGraph). */
  readonly stepGraph?: boolean | undefined;
  /** Tests only: the thread calls process.exit() after this step, as a crash would end it. */
  readonly exitAfterStepForTests?: number | undefined;
}

/** What one call asks of the thread: images of an image model, or clips of a video model. */
export type SamplerWork =
  | { readonly kind: 'images'; readonly requests: readonly GenerationRequest[] }
  | { readonly kind: 'videos'; readonly clips: readonly VideoClipRequest[] };

/** A call's answer, of its work's kind. */
export type SamplerOutput =
  | { readonly kind: 'images'; readonly results: GenerationResult[] }
  | { readonly kind: 'videos'; readonly clips: VideoResult[] };

export type ToThread =
  | {
      readonly type: 'generate';
      readonly id: number;
      readonly model: string;
      readonly work: SamplerWork;
      /** Int32Array over it: [0] becomes non-zero when the caller aborts (read with Atomics). */
      readonly cancel: SharedArrayBuffer;
    }
  | { readonly type: 'release' };

export type FromThread =
  | { readonly type: 'ready'; readonly models: readonly SamplerModel[] }
  | { readonly type: 'failed'; readonly error: WireError }
  | {
      readonly type: 'progress';
      readonly id: number;
      readonly step: number;
      readonly total: number;
      readonly elapsedMs: number;
    }
  | { readonly type: 'result'; readonly id: number; readonly output: SamplerOutput }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | { readonly type: 'released' };

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
  /** Set for DitserveErrors only. */
  readonly code?: ErrorCode | undefined;
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: error instanceof DitserveError ? error.code : undefined,
  };
}

type DitserveErrorClass = new (message: string, options?: ErrorOptions) => DitserveError;

// `code` is an instance field, so one throwaway instance per class tells which code it carries.
const SAMPLER_CLASSES = new Map<string, DitserveErrorClass>(
  Object.values(samplerErrors).map((c) => [new c('').code, c]),
);

/** A DitserveError the thread raised whose class is not one of the sampler's (keeps the code). */
class ThreadDitserveError extends DitserveError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function fromWire(wire: WireError, options?: ErrorOptions): Error {
  let error: Error;
  if (wire.code) {
    const Class = SAMPLER_CLASSES.get(wire.code);
    error = Class
      ? new Class(wire.message, options)
      : new ThreadDitserveError(wire.code, wire.message, options);
  } else {
    error = new Error(wire.message, options);
  }
  error.name = wire.name;
  // The thread's stack is where it went wrong; the main side's would only show the message pump.
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/** The pixel buffers of an answer, to transfer rather than copy (a set: frames may share one). */
export function buffersOf(output: SamplerOutput): ArrayBuffer[] {
  const views =
    output.kind === 'images'
      ? output.results.map((r) => r.pixels)
      : output.clips.flatMap((c) => c.frames);
  return [...new Set(views.map((v) => v.buffer as ArrayBuffer))];
}
