import type { RunnerChoice } from '../runner/index.ts';
import {
  DeviceUnavailableError,
  loadModel,
  ModelConfigError,
  ModelFileMissingError,
  ModelNotFoundError,
  readModelConfig,
  resolveRunner,
  type DeviceOption,
  type DitModel,
} from '../sampler/index.ts';
import { loadVideoModel, type VideoModel } from '../sampler/video/index.ts';

export interface LoadModelsOptions {
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
  /** @default 'auto' (resolveRunner: native on CUDA, stock on the CPU) */
  readonly runner?: RunnerChoice | undefined;
  /** The folder with ditserve's custom-op library builds (DITSERVE_OPS_DIR). */
  readonly opsDir?: string | undefined;
  /**
   * Continuous batching: concurrent generate() calls on a model with a step graph share every
   * denoising step (a video model's Euler clips too). false: each call runs its own batches
   * (DITSERVE_BATCHING=static).
   * @default true
   */
  readonly stepGraph?: boolean | undefined;
}

/** Why it runs on the stock binding although the native one was asked for; else null. */
interface Fallback {
  readonly runnerFallback: string | null;
}

/** A loaded image model (what loadWithFallback returns). */
export type LoadedImageModel = DitModel & Fallback & { readonly modality: 'image' };

/** A loaded video model. */
export type LoadedVideoModel = VideoModel & Fallback & { readonly modality: 'video' };

/** A model a worker serves, tagged with what it makes (ditserve.modality). */
export type LoadedModel = LoadedImageModel | LoadedVideoModel;

/** Errors of the model or the device, which the other binding would meet just the same. */
function isModelOrDeviceError(error: unknown): boolean {
  return (
    error instanceof ModelNotFoundError ||
    error instanceof ModelConfigError ||
    error instanceof ModelFileMissingError ||
    error instanceof DeviceUnavailableError
  );
}

/** Loads with the runner asked for, falling back to the stock one where native cannot load. */
async function withFallback<M>(
  load: (runner: 'native' | undefined) => Promise<M>,
  options: LoadModelsOptions,
): Promise<M & Fallback> {
  if (resolveRunner(options.runner ?? 'auto', options.device) === 'stock') {
    return { ...(await load(undefined)), runnerFallback: null };
  }
  try {
    return { ...(await load('native')), runnerFallback: null };
  } catch (error) {
    if (isModelOrDeviceError(error)) throw error;
    // The native binding cannot load here (no koffi, an incompatible library): the stock one
    // serves, and the reason travels with the model so that the process logs it once.
    const reason = error instanceof Error ? error.message : String(error);
    return { ...(await load(undefined)), runnerFallback: reason };
  }
}

const common = (options: LoadModelsOptions) => ({
  device: options.device,
  warmup: true,
  stepGraph: options.stepGraph ?? true,
  ...(options.threads ? { threads: options.threads } : {}),
  ...(options.opsDir === undefined ? {} : { opsDir: options.opsDir }),
});

/** One image model folder with the runner asked for (stock where native cannot load). */
export async function loadWithFallback(
  dir: string,
  options: LoadModelsOptions,
): Promise<LoadedImageModel> {
  const base = common(options);
  const model = await withFallback(
    (runner) => loadModel(dir, runner ? { ...base, runner } : base),
    options,
  );
  return { ...model, modality: 'image' };
}

/** One video model folder, the same way. */
export async function loadVideoWithFallback(
  dir: string,
  options: LoadModelsOptions,
): Promise<LoadedVideoModel> {
  const base = common(options);
  const model = await withFallback(
    (runner) => loadVideoModel(dir, runner ? { ...base, runner } : base),
    options,
  );
  return { ...model, modality: 'video' };
}

/** One model folder, image or video as its manifest says (loadModel refuses video models). */
export async function loadAnyModel(dir: string, options: LoadModelsOptions): Promise<LoadedModel> {
  const { manifest } = await readModelConfig(dir);
  return manifest.modality === 'video'
    ? loadVideoWithFallback(dir, options)
    : loadWithFallback(dir, options);
}

/**
 * Loads and warms every model folder, image and video alike, keyed by its manifest name (what
 * jobs ask for).
 */
export async function loadModels(
  dirs: readonly string[],
  options: LoadModelsOptions,
): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>();
  for (const dir of dirs) {
    const model = await loadAnyModel(dir, options);
    models.set(model.config.manifest.name, model);
  }
  return models;
}
