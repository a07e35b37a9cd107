import { setMaxListeners } from 'node:events';
import type { Logger } from '../../../core/logger.ts';
import type { Modality } from '../model-contract/index.ts';
import type { RunnerKind } from '../runner/index.ts';
import type { GenerateOptions, GenerationRequest, GenerationResult } from '../sampler/index.ts';
import { generate, InvalidRequestError } from '../sampler/index.ts';
import { generateVideos, type VideoClipRequest, type VideoResult } from '../sampler/video/index.ts';
import type { LoadedImageModel, LoadedModel, LoadedVideoModel } from './load-models.ts';

/** What the worker needs to know of a model it serves (provenance written into images). */
export interface SamplerModel {
  readonly name: string;
  readonly version: string;
  /** What it makes: images (generate) or clips (generateVideos). */
  readonly modality: Modality;
  /** The binding its graphs run through. */
  readonly runner: RunnerKind;
  /** Why it runs on the stock binding although the native one was asked for; else null. */
  readonly runnerFallback: string | null;
}

/** What the worker is told about a loaded model. */
export function samplerModelOf(name: string, model: LoadedModel): SamplerModel {
  return {
    name,
    version: model.config.manifest.version,
    modality: model.modality,
    runner: model.runner,
    runnerFallback: model.runnerFallback,
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
  /** The clips of a video model, as generateVideos() makes them (same progress and cancel). */
  generateVideos(
    model: string,
    clips: readonly VideoClipRequest[],
    options?: GenerateOptions,
  ): Promise<VideoResult[]>;
  /** Frees what it holds (sessions, threads); unusable afterwards. */
  release(): Promise<void>;
}

/**
 * The sampler on the calling thread, over models loaded by the caller. Calls run at once, as on
 * the thread sampler; release() stops them at their next step and waits for them before it
 * frees the sessions they run on.
 */
export function inProcessSampler(models: ReadonlyMap<string, LoadedModel>): Sampler {
  const released = new AbortController();
  // Each call in flight listens for the release (they run concurrently): not a leak.
  setMaxListeners(0, released.signal);
  const inFlight = new Set<Promise<unknown>>();
  let releasing: Promise<void> | undefined;
  const run = <T>(
    call: (signal: AbortSignal) => Promise<T>,
    options: GenerateOptions,
  ): Promise<T> => {
    if (released.signal.aborted) {
      return Promise.reject(new Error('the sampler has been released'));
    }
    const signal = options.signal
      ? AbortSignal.any([options.signal, released.signal])
      : released.signal;
    const running = call(signal);
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return running;
  };
  return {
    models: new Map([...models].map(([name, m]) => [name, samplerModelOf(name, m)])),
    generate(model, requests, options = {}) {
      return run(
        async (signal) => generate(imageModel(models, model), requests, { ...options, signal }),
        options,
      );
    },
    generateVideos(model, clips, options = {}) {
      return run(
        async (signal) => generateVideos(videoModel(models, model), clips, { ...options, signal }),
        options,
      );
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

function loaded(models: ReadonlyMap<string, LoadedModel>, name: string): LoadedModel {
  const model = models.get(name);
  if (!model) throw new Error(`model ${name} is not loaded`);
  return model;
}

/** The image model `name`; a video model asked for images is the request's mistake. */
export function imageModel(
  models: ReadonlyMap<string, LoadedModel>,
  name: string,
): LoadedImageModel {
  const model = loaded(models, name);
  if (model.modality !== 'image') {
    throw new InvalidRequestError(`model ${name} makes videos, not images`);
  }
  return model;
}

/** The video model `name`; an image model asked for clips is the request's mistake. */
export function videoModel(
  models: ReadonlyMap<string, LoadedModel>,
  name: string,
): LoadedVideoModel {
  const model = loaded(models, name);
  if (model.modality !== 'video') {
    throw new InvalidRequestError(`model ${name} makes images, not videos`);
  }
  return model;
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
