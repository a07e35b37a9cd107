import type { RunnerChoice } from '../runner/index.ts';
import {
  DeviceUnavailableError,
  loadModel,
  ModelConfigError,
  ModelFileMissingError,
  ModelNotFoundError,
  resolveRunner,
  type DeviceOption,
  type DitModel,
} from '../sampler/index.ts';

export interface LoadModelsOptions {
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
  /** @default 'auto' (resolveRunner: native on CUDA, stock on the CPU) */
  readonly runner?: RunnerChoice | undefined;
  /**
   * Continuous batching: concurrent generate() calls on a model with a step graph share every
   * denoising step. false: each call runs its own batches (DITSERVE_BATCHING=static).
   * @default true
   */
  readonly stepGraph?: boolean | undefined;
}

/** A loaded model, and why it runs on the stock binding although the native one was asked for. */
export type LoadedModel = DitModel & { readonly runnerFallback: string | null };

/** Errors of the model or the device, which the other binding would meet just the same. */
function isModelOrDeviceError(error: unknown): boolean {
  return (
    error instanceof ModelNotFoundError ||
    error instanceof ModelConfigError ||
    error instanceof ModelFileMissingError ||
    error instanceof DeviceUnavailableError
  );
}

/** One model folder with the runner asked for, falling back to the stock one where native cannot load. */
export async function loadWithFallback(
  dir: string,
  options: LoadModelsOptions,
): Promise<LoadedModel> {
  const common = {
    device: options.device,
    warmup: true,
    stepGraph: options.stepGraph ?? true,
    ...(options.threads ? { threads: options.threads } : {}),
  };
  if (resolveRunner(options.runner ?? 'auto', options.device) === 'stock') {
    return { ...(await loadModel(dir, common)), runnerFallback: null };
  }
  try {
    return { ...(await loadModel(dir, { ...common, runner: 'native' })), runnerFallback: null };
  } catch (error) {
    if (isModelOrDeviceError(error)) throw error;
    // The native binding cannot load here (no koffi, an incompatible library): the stock one
    // serves, and the reason travels with the model so that the process logs it once.
    const reason = error instanceof Error ? error.message : String(error);
    return { ...(await loadModel(dir, common)), runnerFallback: reason };
  }
}

/** Loads and warms every model folder, keyed by its manifest name (what jobs ask for). */
export async function loadModels(
  dirs: readonly string[],
  options: LoadModelsOptions,
): Promise<Map<string, LoadedModel>> {
  const models = new Map<string, LoadedModel>();
  for (const dir of dirs) {
    const model = await loadWithFallback(dir, options);
    models.set(model.config.manifest.name, model);
  }
  return models;
}
