import { loadModel, type DeviceOption, type DitModel } from '../sampler/index.ts';

/** Loads and warms every model folder, keyed by its manifest name (what jobs ask for). */
export async function loadModels(
  dirs: readonly string[],
  options: { device: DeviceOption; threads?: number | undefined },
): Promise<Map<string, DitModel>> {
  const models = new Map<string, DitModel>();
  for (const dir of dirs) {
    const model = await loadModel(dir, {
      device: options.device,
      warmup: true,
      ...(options.threads ? { threads: options.threads } : {}),
    });
    models.set(model.config.manifest.name, model);
  }
  return models;
}
