import { OrtError } from './errors.ts';
import { nativeBytes, type Handle, type OrtCApi, type Out } from './ort-c-api.ts';
import type { RunnerTensor } from './runner.ts';

/** ONNXTensorElementDataType values (onnxruntime_c_api.h) of the types the port carries. */
const ELEMENT = { float32: 1, uint8: 2, int64: 7 } as const;

function asBytes(data: RunnerTensor['data']): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * An OrtValue holding a copy of `tensor`, in memory onnxruntime allocated. The copy (one memcpy
 * per input) is deliberate: a JS typed array's memory must not be handed to a run on another
 * thread, since the JS side may reuse or collect it meanwhile. The caller releases the value.
 */
export function createTensor(api: OrtCApi, tensor: RunnerTensor): Handle {
  const { fn, check } = api;
  const out: Out = [null];
  const shape = BigInt64Array.from(tensor.dims, (d) => BigInt(d));
  check(fn.CreateTensorAsOrtValue(api.allocator, shape, shape.length, ELEMENT[tensor.type], out));
  const value = out[0];
  if (value === null) throw new OrtError('CreateTensorAsOrtValue gave no value', 'unknown');
  try {
    const data: Out = [null];
    check(fn.GetTensorMutableData(value, data));
    nativeBytes(data[0], tensor.data.byteLength).set(asBytes(tensor.data));
  } catch (error) {
    fn.ReleaseValue(value);
    throw error;
  }
  return value;
}

/** A JS copy of the tensor in `value` (which stays the caller's to release). */
export function readTensor(api: OrtCApi, name: string, value: Handle): RunnerTensor {
  const { fn, check } = api;
  const infoOut: Out = [null];
  check(fn.GetTensorTypeAndShape(value, infoOut));
  const info = infoOut[0];
  let type: number;
  let dims: number[];
  try {
    const typeOut = [0];
    check(fn.GetTensorElementType(info, typeOut));
    type = typeOut[0] ?? 0;
    const rankOut = [0];
    check(fn.GetDimensionsCount(info, rankOut));
    const raw = new BigInt64Array(rankOut[0] ?? 0);
    check(fn.GetDimensions(info, raw, raw.length));
    dims = Array.from(raw, Number);
  } finally {
    fn.ReleaseTensorTypeAndShapeInfo(info);
  }
  const count = dims.reduce((n, d) => n * d, 1);
  const dataOut: Out = [null];
  check(fn.GetTensorMutableData(value, dataOut));
  if (type === ELEMENT.float32) {
    const data = new Float32Array(count);
    asBytes(data).set(nativeBytes(dataOut[0], data.byteLength));
    return { type: 'float32', data, dims };
  }
  if (type === ELEMENT.int64) {
    const data = new BigInt64Array(count);
    asBytes(data).set(nativeBytes(dataOut[0], data.byteLength));
    return { type: 'int64', data, dims };
  }
  if (type === ELEMENT.uint8) {
    return { type: 'uint8', data: nativeBytes(dataOut[0], count).slice(), dims };
  }
  throw new OrtError(
    `output ${name} has element type ${type}, not float32, int64 or uint8`,
    'unknown',
  );
}
