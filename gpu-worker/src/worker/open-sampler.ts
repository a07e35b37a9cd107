import type { DeviceOption } from '../sampler/index.ts';
import { loadModels } from './load-models.ts';
import { inProcessSampler, type Sampler } from './sampler-port.ts';

export interface OpenSamplerOptions {
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
}

/** The sampler a worker process uses for these model folders, loaded and warmed. */
export async function openSampler(
  modelDirs: readonly string[],
  options: OpenSamplerOptions,
): Promise<Sampler> {
  return inProcessSampler(await loadModels(modelDirs, options));
}
