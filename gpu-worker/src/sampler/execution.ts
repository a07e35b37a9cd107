import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  cudaListed as stockCudaListed,
  openRunner,
  PerShapeRunner,
  quietOnnxruntimeLog,
  type Runner,
  type RunnerChoice,
  type RunnerKind,
} from '../runner/index.ts';
import { DeviceUnavailableError, ModelFileMissingError } from './errors.ts';
import type { ModelConfig, OnnxComponent } from './model-config.ts';

import type { Device, DeviceOption } from '../model-contract/devices.ts';

export { DEVICE_OPTIONS, type Device, type DeviceOption } from '../model-contract/devices.ts';

export interface ExecutionOptions {
  /** 'auto' (default) uses CUDA when onnxruntime-node has it and sessions open, else the CPU. */
  readonly device?: DeviceOption;
  /** CPU only: intra-op threads per session (default: the cores available to this process). */
  readonly threads?: number;
  /**
   * Which binding runs the graphs: 'stock' (default) is onnxruntime-node's InferenceSession,
   * 'native' our own calls into the same library's C API (docs/native-runner.md).
   */
  readonly runner?: RunnerKind;
  /**
   * The folder with gpu-worker/ops' builds (DITSERVE_OPS_DIR): sessions of a model whose
   * manifest lists the device under custom_ops register libditserve_ops_<device>.so from it.
   */
  readonly opsDir?: string | undefined;
}

export type Sessions = Partial<Record<OnnxComponent, Runner>>;

export interface OpenedSessions {
  readonly device: Device;
  readonly sessions: Sessions;
  /** The custom-op library the sessions registered (the step and decode graphs need it too). */
  readonly opsLibrary: string | undefined;
  /** Why 'auto' ended on the CPU (null when it did not fall back). */
  readonly fallbackReason: string | null;
}

/**
 * The binding for a runner choice: 'auto' takes the native runner (CUDA graphs, device-resident
 * steps) where CUDA may be used and onnxruntime-node has a CUDA provider, the stock one otherwise
 * (the CPU gives the same bytes through either).
 */
export function resolveRunner(choice: RunnerChoice, device: DeviceOption): RunnerKind {
  if (choice !== 'auto') return choice;
  return device !== 'cpu' && cudaListed() ? 'native' : 'stock';
}

/** Whether this onnxruntime-node build can load a CUDA execution provider at all. */
export function cudaListed(): boolean {
  return stockCudaListed();
}

async function releaseAll(sessions: Sessions): Promise<void> {
  await Promise.all(Object.values(sessions).map((session) => session.release()));
}

// onnxruntime's words when a graph's external data file (weights.bin) is not next to it.
const MISSING_EXTERNAL_DATA = /External data path does not exist: "([^"]+)"/;

/**
 * The custom-op library a model's graphs need on `device` (manifest custom_ops), or undefined;
 * a model that needs one without a built library in `opsDir` is refused with what to do.
 */
export async function opsLibraryFor(
  config: ModelConfig,
  device: Device,
  opsDir: string | undefined,
): Promise<string | undefined> {
  if (!config.manifest.customOps.includes(device)) return undefined;
  const build = `bash gpu-worker/ops/build.sh ${device} DIR, then DITSERVE_OPS_DIR=DIR (docs/custom-ops.md)`;
  if (opsDir === undefined) {
    throw new ModelFileMissingError(
      `${config.dir}: its ${device} graphs use ditserve's custom ops (manifest custom_ops) and no op library is set: ${build}`,
    );
  }
  const library = join(opsDir, `libditserve_ops_${device}.so`);
  try {
    await access(library);
  } catch (error) {
    throw new ModelFileMissingError(`missing op library ${library} for ${config.dir}: ${build}`, {
      cause: error,
    });
  }
  return library;
}

/** A session for the graph at `path`; a missing external weights file is our own error. */
async function createSession(
  runner: RunnerKind,
  path: string,
  device: Device,
  threads: number,
  opsLibrary?: string,
): Promise<Runner> {
  const ops = opsLibrary === undefined ? {} : { customOpsLibrary: opsLibrary };
  try {
    // Session options (graph optimization 'all', log level, threads) live in the runners.
    return await openRunner(
      runner,
      path,
      device === 'cuda' ? { device, ...ops } : { device, threads, ...ops },
    );
  } catch (error) {
    const missing = error instanceof Error ? MISSING_EXTERNAL_DATA.exec(error.message) : null;
    if (!missing) throw error;
    throw new ModelFileMissingError(
      `missing weights file ${missing[1]}: ${path} keeps its weights there (copy a component folder whole)`,
      { cause: error },
    );
  }
}

/** The components with convolutions: on CUDA, one session per input shape (PerShapeRunner). */
const CONVOLUTIONAL: ReadonlySet<OnnxComponent> = new Set(['vae_decoder', 'vae_encoder']);

/** The graph at `path` of `component`: on CUDA a convolutional one as a PerShapeRunner. */
export async function openComponentGraph(
  component: OnnxComponent,
  path: string,
  device: Device,
  threads: number,
  runner: RunnerKind,
  opsLibrary?: string,
): Promise<Runner> {
  const session = await createSession(runner, path, device, threads, opsLibrary);
  return device === 'cuda' && CONVOLUTIONAL.has(component)
    ? new PerShapeRunner(session, () => createSession(runner, path, device, threads, opsLibrary))
    : session;
}

/** Opens one session per component on `device`, or none (releasing any already open). */
async function openOn(
  config: ModelConfig,
  device: Device,
  threads: number,
  runner: RunnerKind,
  opsLibrary: string | undefined,
): Promise<Sessions> {
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
      sessions[component] = await openComponentGraph(
        component,
        path,
        device,
        threads,
        runner,
        opsLibrary,
      );
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
  {
    device = 'auto',
    threads = availableParallelism(),
    runner = 'stock',
    opsDir,
  }: ExecutionOptions = {},
): Promise<OpenedSessions> {
  let fallbackReason: string | null = null;
  if (device !== 'cpu') {
    // The native runner does not ask onnxruntime-node's binding (which would load it): it
    // simply tries CUDA and falls back like any failed attempt.
    if (runner === 'stock' && !cudaListed()) {
      fallbackReason = 'this onnxruntime-node build lists no CUDA backend';
    } else {
      // A failed CUDA probe is expected on CPU machines and reported as fallbackReason; without
      // this, onnxruntime's logger prints the provider's load error in red on every start.
      // (Process-wide, and it only takes effect before the first session is created.)
      if (device === 'auto' && runner === 'stock') quietOnnxruntimeLog();
      try {
        return await openAll(config, 'cuda', { threads, runner, opsDir }, fallbackReason);
      } catch (error) {
        if (device === 'cuda' && error instanceof ModelFileMissingError) throw error;
        fallbackReason = `CUDA failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (device === 'cuda') throw new DeviceUnavailableError(fallbackReason);
  }
  return openAll(config, 'cpu', { threads, runner, opsDir }, fallbackReason);
}

/** Every session of the model on `device`, with the op library its manifest asks for there. */
async function openAll(
  config: ModelConfig,
  device: Device,
  o: { threads: number; runner: RunnerKind; opsDir: string | undefined },
  fallbackReason: string | null,
): Promise<OpenedSessions> {
  const opsLibrary = await opsLibraryFor(config, device, o.opsDir);
  const sessions = await openOn(config, device, o.threads, o.runner, opsLibrary);
  return { device, sessions, fallbackReason, opsLibrary };
}
