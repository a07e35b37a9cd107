import type { CudaProviderOptions } from './runner.ts';

/**
 * OrtCUDAProviderOptionsV2 as the string pairs UpdateCUDAProviderOptions takes (names from the
 * CUDA provider, onnxruntime 1.29). The stream is not among them: it is a pointer, set with
 * UpdateCUDAProviderOptionsWithValue('user_compute_stream', stream).
 */
export function cudaProviderEntries(options: CudaProviderOptions = {}): [string, string][] {
  const entries: [string, string][] = [['device_id', String(options.deviceId ?? 0)]];
  if (options.enableCudaGraph !== undefined) {
    entries.push(['enable_cuda_graph', options.enableCudaGraph ? '1' : '0']);
  }
  if (options.sdpaKernel !== undefined) entries.push(['sdpa_kernel', String(options.sdpaKernel)]);
  for (const [key, value] of Object.entries(options.extra ?? {})) entries.push([key, value]);
  return entries;
}
