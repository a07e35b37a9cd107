import type { RunnerChoice } from '../runner/index.ts';
import type { DeviceOption } from '../sampler/index.ts';
import type { Sampler } from './sampler-port.ts';
import { startThreadSampler } from './thread-sampler.ts';

export interface OpenSamplerOptions {
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
  readonly runner?: RunnerChoice | undefined;
  /** The folder with ditserve's custom-op library builds (DITSERVE_OPS_DIR). */
  readonly opsDir?: string | undefined;
  /** false: each generate() runs its own batches, as with DITSERVE_BATCHING=static. */
  readonly stepGraph?: boolean | undefined;
}

/**
 * The sampler a worker uses for these model folders, loaded and warmed: on a thread of its own,
 * so that the worker's event loop (HTTP, heartbeats, progress writes where cancels are seen) is
 * never blocked by an ONNX run. Release it before the process exits.
 */
export function openSampler(
  modelDirs: readonly string[],
  options: OpenSamplerOptions,
): Promise<Sampler> {
  return startThreadSampler({ modelDirs, ...options });
}
