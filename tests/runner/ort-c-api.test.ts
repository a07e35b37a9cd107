import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cudaProviderEntries } from '../../gpu-worker/src/runner/cuda-provider-options.ts';
import { OrtError } from '../../gpu-worker/src/runner/errors.ts';
import {
  ORT_API,
  ORT_API_SIZE,
  ORT_API_VERSION,
} from '../../gpu-worker/src/runner/ort-api-table.ts';
import { libonnxruntimePath, ortCApi } from '../../gpu-worker/src/runner/ort-c-api.ts';

describe('the OrtApi table (scripts/ort-c-api/generate.ts)', () => {
  it('is version 29 with 425 entries, numbered 0..n-1 in declaration order', () => {
    expect(ORT_API_VERSION).toBe(29);
    expect(ORT_API_SIZE).toBe(425);
    expect(Object.values(ORT_API)).toEqual(Array.from({ length: ORT_API_SIZE }, (_, i) => i));
  });

  it('matches indices checked independently against the v29 header', () => {
    expect(ORT_API).toMatchObject({
      CreateStatus: 0,
      CreateEnv: 3,
      CreateRunOptions: 39,
      CreateTensorAsOrtValue: 48,
      GetTensorMutableData: 51,
      CreateMemoryInfo: 68,
      CreateAllocator: 131,
      RunWithBinding: 133,
      CreateIoBinding: 134,
      BindInput: 136,
      BindOutput: 137,
      BindOutputToDevice: 138,
      AddRunConfigEntry: 165,
      SynchronizeBoundInputs: 202,
      SynchronizeBoundOutputs: 203,
      SessionOptionsAppendExecutionProvider_CUDA_V2: 204,
      CreateCUDAProviderOptions: 205,
      UpdateCUDAProviderOptions: 206,
      UpdateCUDAProviderOptionsWithValue: 263,
      CopyTensors: 386,
    });
  });
});

describe("onnxruntime-node's libonnxruntime through koffi", () => {
  it('is the library next to the stock binding, version 1.29.0, with C API 29', () => {
    expect(existsSync(libonnxruntimePath())).toBe(true);
    const api = ortCApi();
    expect(api.version).toBe('1.29.0');
    expect(api.allocator).not.toBe(0n);
  });

  it('round-trips an OrtStatus: code and message come back as an OrtError', () => {
    const api = ortCApi();
    const { fn } = api;
    // A negative dimension is refused by CreateTensorAsOrtValue with ORT_FAIL.
    const out: [bigint | null] = [null];
    const status = fn.CreateTensorAsOrtValue(
      ortCApi().allocator,
      BigInt64Array.from([-2n]),
      1,
      1,
      out,
    );
    expect(status).not.toBeNull();
    expect(() => {
      api.check(status);
    }).toThrow(OrtError);
    expect(out[0]).toBeNull();
    let refused: unknown;
    try {
      api.check(
        fn.CreateTensorAsOrtValue(ortCApi().allocator, BigInt64Array.from([-2n]), 1, 1, out),
      );
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(OrtError);
    expect((refused as OrtError).ortCode).toBe('ORT_FAIL');
    expect((refused as OrtError).message).toMatch(/shape/);
  });
});

describe('CUDA provider options V2', () => {
  it('default to device 0 and otherwise carry only what was asked', () => {
    expect(cudaProviderEntries()).toEqual([['device_id', '0']]);
    expect(
      cudaProviderEntries({
        deviceId: 1,
        enableCudaGraph: true,
        sdpaKernel: 8,
        extra: { use_tf32: '0', prefer_nhwc: '1' },
      }),
    ).toEqual([
      ['device_id', '1'],
      ['enable_cuda_graph', '1'],
      ['sdpa_kernel', '8'],
      ['use_tf32', '0'],
      ['prefer_nhwc', '1'],
    ]);
    expect(cudaProviderEntries({ enableCudaGraph: false })).toContainEqual([
      'enable_cuda_graph',
      '0',
    ]);
  });
});
