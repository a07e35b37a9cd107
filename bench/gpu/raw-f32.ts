import { readFileSync } from 'node:fs';

/** A raw float32 file, as numpy's tofile writes it (torch_peer.py, fp8_gemm_graphs.py). */
export function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
