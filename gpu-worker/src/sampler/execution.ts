import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DeviceUnavailableError, ModelFileMissingError } from './errors.ts';
import type { ModelConfig, OnnxComponent } from './model-config.ts';

import type { Device, DeviceOption } from '../model-contract/devices.ts';

export { DEVICE_OPTIONS, type Device, type DeviceOption } from '../model-contract/devices.ts';

export interface ExecutionOptions {
  /** 'auto' (default) uses CUDA when onnxruntime-node has it and sessions open, else the CPU. */
  readonly device?: DeviceOption;
  /** CPU only: intra-op threads per session (default: the cores available to this process). */
  readonly threads?: number;
}

export type Sessions = Partial<Record<OnnxComponent, ort.InferenceSession>>;

export interface OpenedSessions {
  readonly device: Device;
  readonly sessions: Sessions;
  /** Why 'auto' ended on the CPU (null when it did not fall back). */
  readonly fallbackReason: string | null;
}

/** Whether this onnxruntime-node build can load a CUDA execution provider at all. */
export function cudaListed(): boolean {
  return ort.listSupportedBackends().some((backend) => backend.name === 'cuda');
}

function sessionOptions(device: Device, threads: number): ort.InferenceSession.SessionOptions {
  // Warnings (e.g. about nodes placed on the CPU) go nowhere useful in a CLI or worker log.
  const common = { graphOptimizationLevel: 'all', logSeverityLevel: 3 } as const;
  return device === 'cuda'
    ? { ...common, executionProviders: ['cuda'] }
    : { ...common, executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1 };
}

async function releaseAll(sessions: Sessions): Promise<void> {
  await Promise.all(Object.values(sessions).map((session) => session.release()));
}

// onnxruntime's words when a graph's external data file (weights.bin) is not next to it.
const MISSING_EXTERNAL_DATA = /External data path does not exist: "([^"]+)"/;

/** A session for the graph at `path`; a missing external weights file is our own error. */
async function createSession(
  path: string,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (error) {
    const missing = error instanceof Error ? MISSING_EXTERNAL_DATA.exec(error.message) : null;
    if (!missing) throw error;
    throw new ModelFileMissingError(
      `missing weights file ${missing[1]}: ${path} keeps its weights there (copy a component folder whole)`,
      { cause: error },
    );
  }
}

/** Opens one session per component on `device`, or none (releasing any already open). */
async function openOn(config: ModelConfig, device: Device, threads: number): Promise<Sessions> {
  const file = config.manifest.variants[device];
  const sessions: Sessions = {};
  try {
    for (const [component, dir] of Object.entries(config.componentDirs) as [
      OnnxComponent,
      string,
    ][]) {
      const path = join(dir, file);
      try {
        await access(path);
      } catch (error) {
        throw new ModelFileMissingError(`missing ONNX file for ${device}: ${path}`, {
          cause: error,
        });
      }
      sessions[component] = await createSession(path, sessionOptions(device, threads));
    }
  } catch (error) {
    await releaseAll(sessions);
    throw error;
  }
  return sessions;
}

/**
 * Opens the model's sessions on the requested device. An explicit 'cuda' never falls back: its
 * failure is a DeviceUnavailableError carrying onnxruntime's message. 'auto' tries CUDA only when
 * onnxruntime-node lists it, and reports why it ended on the CPU.
 */
export async function openSessions(
  config: ModelConfig,
  { device = 'auto', threads = availableParallelism() }: ExecutionOptions = {},
): Promise<OpenedSessions> {
  let fallbackReason: string | null = null;
  if (device !== 'cpu') {
    if (!cudaListed()) {
      fallbackReason = 'this onnxruntime-node build lists no CUDA backend';
    } else {
      // A failed CUDA probe is expected on CPU machines and reported as fallbackReason; without
      // this, onnxruntime's logger prints the provider's load error in red on every start.
      // (Process-wide, and it only takes effect before the first session is created.)
      if (device === 'auto') ort.env.logLevel = 'fatal';
      try {
        return { device: 'cuda', sessions: await openOn(config, 'cuda', threads), fallbackReason };
      } catch (error) {
        if (device === 'cuda' && error instanceof ModelFileMissingError) throw error;
        fallbackReason = `CUDA failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (device === 'cuda') throw new DeviceUnavailableError(fallbackReason);
  }
  return { device: 'cpu', sessions: await openOn(config, 'cpu', threads), fallbackReason };
}
