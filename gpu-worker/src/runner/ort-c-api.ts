// A namespace import: bundles for the worker image declare `createRequire` in their banner.
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import type * as KoffiModule from 'koffi';
import { ORT_ERROR_CODES, OrtError, type OrtErrorCode } from './errors.ts';
import { ORT_API, ORT_API_VERSION } from './ort-api-table.ts';

/**
 * onnxruntime's C API through koffi: the `OrtApi` function table of the libonnxruntime.so.1
 * that onnxruntime-node installs (so both runners share one library, one OrtEnv and one set of
 * kernels). Every entry the native runner uses is declared here once, with its C signature from
 * onnxruntime_c_api.h (v29; SAL annotations dropped, opaque Ort* handles as `void *`). Indices
 * come from ort-api-table.ts, which scripts/ort-c-api/generate.ts derives from the header.
 */

/** A native handle (OrtEnv*, OrtSession*, …): koffi gives pointers as BigInts. */
export type Handle = bigint;
/** An out-parameter slot: koffi writes the pointer into element 0. */
export type Out = [Handle | null];

type Koffi = typeof KoffiModule;
const requireHere = nodeModule.createRequire(import.meta.url);
let koffiModule: Koffi | undefined;

/**
 * koffi, loaded on first use through a CommonJS require that bundlers leave alone: the stock
 * path never loads it, and a bundle that lacks it (the worker image, so far) fails only when the
 * native runner is asked for, not at start-up. On the GPU machine require() finds it on NODE_PATH.
 */
function loadKoffi(): Koffi {
  koffiModule ??= requireHere('koffi') as Koffi;
  return koffiModule;
}

type Fn = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

// Signatures by table entry. `void *` = an OrtStatus* (null on success) where a name says so.
const SIGNATURES = {
  GetErrorCode: 'int GetErrorCode(void *status)',
  GetErrorMessage: 'const char *GetErrorMessage(void *status)',
  ReleaseStatus: 'void ReleaseStatus(void *status)',
  CreateEnv: 'void *CreateEnv(int level, const char *logid, _Out_ void **out)',
  ReleaseEnv: 'void ReleaseEnv(void *env)',
  CreateSessionOptions: 'void *CreateSessionOptions(_Out_ void **out)',
  ReleaseSessionOptions: 'void ReleaseSessionOptions(void *options)',
  SetIntraOpNumThreads: 'void *SetIntraOpNumThreads(void *options, int n)',
  SetInterOpNumThreads: 'void *SetInterOpNumThreads(void *options, int n)',
  SetSessionGraphOptimizationLevel:
    'void *SetSessionGraphOptimizationLevel(void *options, int level)',
  SetSessionLogSeverityLevel: 'void *SetSessionLogSeverityLevel(void *options, int level)',
  EnableProfiling: 'void *EnableProfiling(void *options, const char *prefix)',
  AddFreeDimensionOverrideByName:
    'void *AddFreeDimensionOverrideByName(void *options, const char *name, int64_t value)',
  SetOptimizedModelFilePath: 'void *SetOptimizedModelFilePath(void *options, const char *path)',
  RegisterCustomOpsLibrary_V2: 'void *RegisterCustomOpsLibrary_V2(void *options, const char *path)',
  AddSessionConfigEntry:
    'void *AddSessionConfigEntry(void *options, const char *key, const char *value)',
  SessionOptionsAppendExecutionProvider_CUDA_V2:
    'void *SessionOptionsAppendExecutionProvider_CUDA_V2(void *options, void *cuda)',
  CreateCUDAProviderOptions: 'void *CreateCUDAProviderOptions(_Out_ void **out)',
  UpdateCUDAProviderOptions:
    'void *UpdateCUDAProviderOptions(void *cuda, const char **keys, const char **values, size_t n)',
  UpdateCUDAProviderOptionsWithValue:
    'void *UpdateCUDAProviderOptionsWithValue(void *cuda, const char *key, void *value)',
  ReleaseCUDAProviderOptions: 'void ReleaseCUDAProviderOptions(void *cuda)',
  CreateSession:
    'void *CreateSession(void *env, const char *path, void *options, _Out_ void **out)',
  ReleaseSession: 'void ReleaseSession(void *session)',
  SessionGetInputCount: 'void *SessionGetInputCount(void *session, _Out_ size_t *out)',
  SessionGetOutputCount: 'void *SessionGetOutputCount(void *session, _Out_ size_t *out)',
  SessionGetInputName:
    'void *SessionGetInputName(void *session, size_t i, void *allocator, _Out_ void **out)',
  SessionGetOutputName:
    'void *SessionGetOutputName(void *session, size_t i, void *allocator, _Out_ void **out)',
  SessionEndProfiling:
    'void *SessionEndProfiling(void *session, void *allocator, _Out_ void **out)',
  GetAllocatorWithDefaultOptions: 'void *GetAllocatorWithDefaultOptions(_Out_ void **out)',
  AllocatorFree: 'void *AllocatorFree(void *allocator, void *p)',
  CreateCpuMemoryInfo:
    'void *CreateCpuMemoryInfo(int allocator_type, int mem_type, _Out_ void **out)',
  ReleaseMemoryInfo: 'void ReleaseMemoryInfo(void *info)',
  CreateTensorAsOrtValue:
    'void *CreateTensorAsOrtValue(void *allocator, int64_t *shape, size_t rank, int type, _Out_ void **out)',
  CreateTensorWithDataAsOrtValue:
    'void *CreateTensorWithDataAsOrtValue(void *info, void *data, size_t bytes, int64_t *shape, size_t rank, int type, _Out_ void **out)',
  CreateMemoryInfo:
    'void *CreateMemoryInfo(const char *name, int allocator_type, int device, int mem_type, _Out_ void **out)',
  GetTensorMutableData: 'void *GetTensorMutableData(void *value, _Out_ void **out)',
  GetTensorTypeAndShape: 'void *GetTensorTypeAndShape(void *value, _Out_ void **out)',
  GetTensorElementType: 'void *GetTensorElementType(void *info, _Out_ int *out)',
  GetDimensionsCount: 'void *GetDimensionsCount(void *info, _Out_ size_t *out)',
  GetDimensions: 'void *GetDimensions(void *info, _Out_ int64_t *dims, size_t n)',
  ReleaseTensorTypeAndShapeInfo: 'void ReleaseTensorTypeAndShapeInfo(void *info)',
  ReleaseValue: 'void ReleaseValue(void *value)',
  CreateRunOptions: 'void *CreateRunOptions(_Out_ void **out)',
  AddRunConfigEntry: 'void *AddRunConfigEntry(void *options, const char *key, const char *value)',
  ReleaseRunOptions: 'void ReleaseRunOptions(void *options)',
  Run: 'void *Run(void *session, void *run_options, const char **input_names, void **inputs, size_t n_in, const char **output_names, size_t n_out, _Inout_ void **outputs)',
  CreateIoBinding: 'void *CreateIoBinding(void *session, _Out_ void **out)',
  ReleaseIoBinding: 'void ReleaseIoBinding(void *binding)',
  BindInput: 'void *BindInput(void *binding, const char *name, void *value)',
  BindOutput: 'void *BindOutput(void *binding, const char *name, void *value)',
  BindOutputToDevice: 'void *BindOutputToDevice(void *binding, const char *name, void *info)',
  GetBoundOutputValues:
    'void *GetBoundOutputValues(void *binding, void *allocator, _Out_ void **values, _Out_ size_t *count)',
  RunWithBinding: 'void *RunWithBinding(void *session, void *run_options, void *binding)',
} as const satisfies Partial<Record<keyof typeof ORT_API, string>>;

export type EntryName = keyof typeof SIGNATURES;
export type OrtApiFunctions = Record<EntryName, Fn>;

/** The libonnxruntime.so.1 next to onnxruntime-node's binding (the one the stock runner loads). */
export function libonnxruntimePath(): string {
  const root = dirname(requireHere.resolve('onnxruntime-node/package.json'));
  if (process.platform !== 'linux') {
    // Other platforms name the library differently; only linux is built and tested here.
    throw new OrtError(`the native runner supports linux only, not ${process.platform}`, 'unknown');
  }
  return join(root, 'bin', 'napi-v6', 'linux', process.arch, 'libonnxruntime.so.1');
}

export interface OrtCApi {
  readonly fn: OrtApiFunctions;
  /** The api base's GetVersionString() (the library's own version, e.g. "1.29.0"). */
  readonly version: string;
  /** The process-wide default CPU allocator (never released: onnxruntime owns it). */
  readonly allocator: Handle;
  /** Throws an OrtError for a non-null OrtStatus* (releasing it); no-op for null. */
  readonly check: (status: unknown) => void;
  /** Copies a string onnxruntime allocated with the default allocator, then frees it. */
  readonly takeString: (ptr: Handle) => string;
}

let loaded: OrtCApi | undefined;

/** Loads the C API once per process (koffi.load of an already loaded library reuses it). */
export function ortCApi(): OrtCApi {
  if (loaded) return loaded;
  const koffi = loadKoffi();
  // onnxruntime-node's binding first: loaded after this library was opened here, it crashed
  // the process at its first session (on the CPU, every time); in this order both work.
  requireHere('onnxruntime-node');
  const lib = koffi.load(libonnxruntimePath());
  const base = lib.func('void *OrtGetApiBase()')() as Handle;
  const getApi = koffi.decode(
    koffi.decode(base, 0, 'void *'),
    koffi.proto('void *OrtGetApi(uint32_t version)'),
  ) as (version: number) => Handle | null;
  const getVersion = koffi.decode(
    koffi.decode(base, 8, 'void *'),
    koffi.proto('const char *OrtGetVersionString()'),
  ) as () => string;
  const api = getApi(ORT_API_VERSION);
  if (!api) {
    throw new OrtError(
      `${libonnxruntimePath()} (onnxruntime ${getVersion()}) has no C API version ${ORT_API_VERSION}`,
      'unknown',
    );
  }
  const fn = {} as Record<string, Fn>;
  for (const [name, signature] of Object.entries(SIGNATURES)) {
    const index = ORT_API[name as EntryName];
    const pointer = koffi.decode(api, index * 8, 'void *') as Handle;
    // Each prototype is named after its entry (koffi names must be unique per process).
    fn[name] = koffi.decode(
      pointer,
      koffi.proto(signature.replace(` ${name}(`, ` OrtApi_${name}(`)),
    ) as Fn;
  }
  const f = fn as OrtApiFunctions;
  const check = (status: unknown): void => {
    if (status === null || status === undefined) return;
    const code = f.GetErrorCode(status) as number;
    const message = f.GetErrorMessage(status) as string;
    f.ReleaseStatus(status);
    const name: OrtErrorCode = ORT_ERROR_CODES[code] ?? 'unknown';
    throw new OrtError(message, name);
  };
  const out: Out = [null];
  check(f.GetAllocatorWithDefaultOptions(out));
  const allocator = out[0];
  if (allocator === null) throw new OrtError('onnxruntime gave no default allocator', 'unknown');
  loaded = {
    fn: f,
    version: getVersion(),
    allocator,
    check,
    takeString: (ptr: Handle): string => {
      try {
        return koffi.decode(ptr, 'char', -1) as string;
      } finally {
        check(f.AllocatorFree(allocator, ptr));
      }
    },
  };
  return loaded;
}

/** Calls `fn` on a koffi worker thread: the event loop keeps running meanwhile. */
export function callAsync(fn: Fn, ...args: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: unknown) => {
      if (error instanceof Error) reject(error);
      else if (error) reject(new Error(`koffi async call failed: ${JSON.stringify(error)}`));
      else resolve(result);
    });
  });
}

/** A view of `bytes` bytes of native memory at `ptr` (empty for none: the pointer may be null). */
export function nativeBytes(ptr: Handle | null, bytes: number): Uint8Array {
  if (bytes === 0 || ptr === null) return new Uint8Array(0);
  return new Uint8Array(loadKoffi().view(ptr, bytes));
}

/** `n` pointers from a native array of pointers. */
export function nativePointers(array: Handle, n: number): (Handle | null)[] {
  return n === 0 ? [] : (loadKoffi().decode(array, 'void *', n) as (Handle | null)[]);
}
