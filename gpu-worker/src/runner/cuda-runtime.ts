import * as nodeModule from 'node:module';
import type * as KoffiModule from 'koffi';
import { CudaProviderError } from './errors.ts';

/**
 * The few CUDA runtime calls the device-resident step needs (device memory, copies, one stream),
 * through koffi from the libcudart.so.13 that onnxruntime's CUDA provider itself links. Device
 * addresses are BigInts, so a slot of a buffer is `base + offset`.
 */

export type DevicePtr = bigint;
export type Stream = bigint;
export type Event = bigint;

type Koffi = typeof KoffiModule;
type Call = (...args: unknown[]) => number;

// cudaMemcpyKind; cudaStreamNonBlocking (no implicit sync with the legacy default stream).
const HOST_TO_DEVICE = 1;
const DEVICE_TO_HOST = 2;
const DEVICE_TO_DEVICE = 3;
const STREAM_NON_BLOCKING = 1;
const EVENT_DISABLE_TIMING = 2;
const NOT_READY = 600; // cudaErrorNotReady: what cudaEventQuery returns for work still queued
// 13: the CUDA 13 provider (the GPU machine); 12: the worker image's CUDA 12 provider.
const LIBRARIES = ['libcudart.so.13', 'libcudart.so.12', 'libcudart.so'];

export interface CudaRuntime {
  malloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  createStream(): Stream;
  destroyStream(stream: Stream): void;
  synchronize(stream: Stream): void;
  /** Host → device, ordered on `stream`; `src` may be reused when this returns (pageable copy). */
  upload(dst: DevicePtr, src: Float32Array, stream: Stream): void;
  /** Device → device, ordered on `stream`. */
  copy(dst: DevicePtr, src: DevicePtr, bytes: number, stream: Stream): void;
  /** Device → host after everything queued on `stream` so far. */
  download(dst: Float32Array, src: DevicePtr, stream: Stream): void;
  createEvent(): Event;
  destroyEvent(event: Event): void;
  /** Marks the point the stream has reached. */
  record(event: Event, stream: Stream): void;
  /** Whether the GPU has passed `event` (never blocks). */
  passed(event: Event): boolean;
}

let loaded: CudaRuntime | undefined;

/** Loads libcudart once per process; a CudaProviderError says why it cannot. */
export function cudaRuntime(): CudaRuntime {
  if (loaded) return loaded;
  const koffi = nodeModule.createRequire(import.meta.url)('koffi') as Koffi;
  let lib: ReturnType<Koffi['load']> | undefined;
  const errors: string[] = [];
  for (const name of LIBRARIES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (!lib) throw new CudaProviderError(`the CUDA runtime cannot be loaded: ${errors.join('; ')}`);
  const f = (name: string, ret: string, args: string[]): Call => lib.func(name, ret, args);
  const errorString = f('cudaGetErrorString', 'const char *', ['int']) as unknown as (
    code: number,
  ) => string;
  const check = (what: string, code: number): void => {
    if (code !== 0) throw new CudaProviderError(`${what} failed: ${errorString(code)} (${code})`);
  };
  const malloc = f('cudaMalloc', 'int', ['_Out_ uintptr_t *', 'size_t']);
  const free = f('cudaFree', 'int', ['uintptr_t']);
  const streamCreate = f('cudaStreamCreateWithFlags', 'int', ['_Out_ uintptr_t *', 'uint']);
  const streamDestroy = f('cudaStreamDestroy', 'int', ['uintptr_t']);
  const streamSync = f('cudaStreamSynchronize', 'int', ['uintptr_t']);
  // One symbol, three prototypes: host memory as a typed array, device memory as an address.
  const toDevice = f('cudaMemcpyAsync', 'int', [
    'uintptr_t',
    'void *',
    'size_t',
    'int',
    'uintptr_t',
  ]);
  const onDevice = f('cudaMemcpyAsync', 'int', [
    'uintptr_t',
    'uintptr_t',
    'size_t',
    'int',
    'uintptr_t',
  ]);
  const toHost = f('cudaMemcpyAsync', 'int', ['void *', 'uintptr_t', 'size_t', 'int', 'uintptr_t']);
  // cudaEventDisableTiming: a sync point only, the cheapest kind of event.
  const eventCreate = f('cudaEventCreateWithFlags', 'int', ['_Out_ uintptr_t *', 'uint']);
  const eventDestroy = f('cudaEventDestroy', 'int', ['uintptr_t']);
  const eventRecord = f('cudaEventRecord', 'int', ['uintptr_t', 'uintptr_t']);
  const eventQuery = f('cudaEventQuery', 'int', ['uintptr_t']);
  // A call that writes what it made (a pointer, a stream, an event) through its first argument.
  const created = (what: string, call: (out: [bigint | number]) => number): bigint => {
    const out: [bigint | number] = [0];
    check(what, call(out));
    return BigInt(out[0]);
  };
  loaded = {
    malloc: (bytes) => created(`cudaMalloc(${bytes})`, (out) => malloc(out, bytes)),
    free: (ptr) => {
      check('cudaFree', free(ptr));
    },
    createStream: () =>
      created('cudaStreamCreateWithFlags', (out) => streamCreate(out, STREAM_NON_BLOCKING)),
    destroyStream: (stream) => {
      check('cudaStreamDestroy', streamDestroy(stream));
    },
    synchronize: (stream) => {
      check('cudaStreamSynchronize', streamSync(stream));
    },
    upload: (dst, src, stream) => {
      check(
        'cudaMemcpyAsync (to the device)',
        toDevice(dst, src, src.byteLength, HOST_TO_DEVICE, stream),
      );
    },
    copy: (dst, src, bytes, stream) => {
      check('cudaMemcpyAsync (on the device)', onDevice(dst, src, bytes, DEVICE_TO_DEVICE, stream));
    },
    createEvent: () =>
      created('cudaEventCreateWithFlags', (out) => eventCreate(out, EVENT_DISABLE_TIMING)),
    destroyEvent: (event) => {
      check('cudaEventDestroy', eventDestroy(event));
    },
    record: (event, stream) => {
      check('cudaEventRecord', eventRecord(event, stream));
    },
    passed: (event) => {
      const code = eventQuery(event);
      if (code === NOT_READY) return false;
      check('cudaEventQuery', code);
      return true;
    },
    download(dst, src, stream) {
      check(
        'cudaMemcpyAsync (to the host)',
        toHost(dst, src, dst.byteLength, DEVICE_TO_HOST, stream),
      );
      // A pageable destination: the copy may still be in flight until the stream drains.
      check('cudaStreamSynchronize', streamSync(stream));
    },
  };
  return loaded;
}
