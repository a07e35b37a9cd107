import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Runner, RunnerKind } from '../runner/index.ts';
import { openComponentGraph, type Device } from './execution.ts';
import type { ModelConfig } from './model-config.ts';

/**
 * Opens the model's decode graph for `device` (manifest "decode_graph"; decode_graph.py), like
 * its VAE decoder: null when the manifest names none for the device or the file is absent, so
 * the sampler decodes and converts pixels in two parts as before.
 */
export async function openDecodeGraph(
  config: ModelConfig,
  device: Device,
  runner: RunnerKind,
  threads: number = availableParallelism(),
  opsLibrary?: string,
): Promise<Runner | null> {
  const file = config.manifest.decodeGraph[device];
  const dir = config.componentDirs.vae_decoder;
  if (!file || !dir) return null;
  const path = join(dir, file);
  try {
    await access(path);
  } catch {
    return null;
  }
  return openComponentGraph('vae_decoder', path, device, threads, runner, opsLibrary);
}
