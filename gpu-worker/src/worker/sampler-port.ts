import { setMaxListeners } from 'node:events';
import type { Logger } from '../../../core/logger.ts';
import type { RunnerKind } from '../runner/index.ts';
import type {
  DitModel,
  GenerateOptions,
  GenerationRequest,
  GenerationResult,
} from '../sampler/index.ts';
import { generate } from '../sampler/index.ts';

/** What the worker needs to know of a model it serves (provenance written into images). */
export interface SamplerModel {
  readonly name: string;
  readonly version: string;
  /** The binding its graphs run through. */
  readonly runner: RunnerKind;
  /** Why it runs on the stock binding although the native one was asked for; else null. */
  readonly runnerFallback: string | null;
}

/** What the worker is told about a loaded model. */
export function samplerModelOf(
  name: string,
  model: DitModel & { runnerFallback?: string | null },
): SamplerModel {
  return {
    name,
    version: model.config.manifest.version,
    runner: model.runner,
    runnerFallback: model.runnerFallback ?? null,
  };
}

/**
 * The worker's port to whatever turns requests into pixels: the ONNX sampler on this thread, on
 * a thread of its own (so HTTP, heartbeats and cancel keep running), the GPU engine, or a fake in
 * tests. `generate` rejects with GenerationCanceledError at the next step once `signal` fires.
 */
export interface Sampler {
  /** The models it serves, by manifest name (what jobs ask for). */
  readonly models: ReadonlyMap<string, SamplerModel>;
  generate(
    model: string,
    requests: readonly GenerationRequest[],
    options?: GenerateOptions,
  ): Promise<GenerationResult[]>;
  /** Frees what it holds (sessions, threads); unusable afterwards. */
  release(): Promise<void>;
}

/**
 * The sampler on the calling thread, over models loaded by the caller. Calls run at once, as on
 * the thread sampler; release() stops them at their next step and waits for them before it
 * frees the sessions they run on.
 */
export function inProcessSampler(models: ReadonlyMap<string, DitModel>): Sampler {
  const released = new AbortController();
  // Each call in flight listens for the release (they run concurrently): not a leak.
  setMaxListeners(0, released.signal);
  const inFlight = new Set<Promise<unknown>>();
  let releasing: Promise<void> | undefined;
  return {
    models: new Map([...models].map(([name, m]) => [name, samplerModelOf(name, m)])),
    generate(model, requests, options = {}) {
      if (released.signal.aborted) {
        return Promise.reject(new Error('the sampler has been released'));
      }
      const loaded = models.get(model);
      if (!loaded) return Promise.reject(new Error(`model ${model} is not loaded`));
      const signal = options.signal
        ? AbortSignal.any([options.signal, released.signal])
        : released.signal;
      const call = generate(loaded, requests, { ...options, signal });
      const settled = call.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return call;
    },
    release() {
      releasing ??= (async () => {
        released.abort(new Error('the sampler has been released'));
        await Promise.all(inFlight);
        await Promise.all([...models.values()].map((m) => m.release()));
      })();
      return releasing;
    },
  };
}

/** Says once, for each model that asked for the native runner but got the stock one, why. */
export function warnRunnerFallbacks(sampler: Sampler, logger: Logger): void {
  for (const model of sampler.models.values()) {
    if (model.runnerFallback !== null) {
      logger.warn('native runner unavailable: the stock binding runs this model', {
        model: model.name,
        reason: model.runnerFallback,
      });
    }
  }
}
