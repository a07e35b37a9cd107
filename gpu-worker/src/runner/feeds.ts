import { RunnerInputError } from './errors.ts';
import type { RunnerTensor, TensorMap } from './runner.ts';

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/**
 * Checks feeds against the graph's input names before either adapter runs, so both refuse the
 * same feeds with the same error (onnxruntime itself still checks ranks and fixed dimensions).
 */
export function checkFeeds(inputNames: readonly string[], feeds: TensorMap): void {
  const given = Object.keys(feeds);
  const missing = inputNames.filter((name) => !(name in feeds));
  const unknown = given.filter((name) => !inputNames.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      unknown.length > 0 ? `unknown ${unknown.join(', ')}` : '',
    ].filter(Boolean);
    throw new RunnerInputError(
      `feeds do not match the graph's inputs (${inputNames.join(', ')}): ${parts.join('; ')}`,
    );
  }
  for (const [name, tensor] of Object.entries(feeds)) checkTensor(name, tensor);
}

function checkTensor(name: string, tensor: RunnerTensor): void {
  const ok =
    tensor.type === 'float32'
      ? tensor.data instanceof Float32Array
      : tensor.type === 'int64'
        ? tensor.data instanceof BigInt64Array
        : tensor.data instanceof Uint8Array;
  if (!ok) throw new RunnerInputError(`input ${name}: data does not match type ${tensor.type}`);
  if (!tensor.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RunnerInputError(`input ${name}: dims [${tensor.dims.join(', ')}] are not sizes`);
  }
  const count = elementCount(tensor.dims);
  if (count !== tensor.data.length) {
    throw new RunnerInputError(
      `input ${name}: dims [${tensor.dims.join(', ')}] hold ${count} values, data has ${tensor.data.length}`,
    );
  }
}
