import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CudaProviderError,
  openNativeRunner,
  openStockRunner,
  type Runner,
  type RunnerTensor,
} from '../../gpu-worker/src/runner/index.ts';
import { GraphBuilder } from '../helpers/onnx-builder.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { f32, i64, mixedGraph, runnerContract } from './runner.contract.ts';

runnerContract('native runner (C API, Run)', openNativeRunner);
runnerContract('native runner (C API, IoBinding + RunWithBinding)', (path, options) =>
  openNativeRunner(path, { ...options, ioBinding: true }),
);

const N = 256;
const CHAIN = 192;

/** y = x·I·I·…·I (CHAIN MatMuls of N×N): heavy enough to run for a while, exact result x. */
function heavyGraph(): Uint8Array {
  const g = new GraphBuilder('heavy');
  let x = g.input('x', 'float32', [N, N]);
  const identity = g.constant(
    'float32',
    [N, N],
    Array.from({ length: N * N }, (_, i) => (i % (N + 1) === 0 ? 1 : 0)),
  );
  for (let i = 0; i < CHAIN; i++) {
    x = g.node('MatMul', [x, identity], {}, i === CHAIN - 1 ? 'y' : `m${i}`);
  }
  g.output('y', 'float32', [N, N]);
  return g.toBytes();
}

describe('native runner only', () => {
  let dir: string;
  let mixedPath: string;
  beforeAll(async () => {
    dir = await tempDir('native-runner-');
    mixedPath = join(dir, 'mixed.onnx');
    await writeFile(mixedPath, mixedGraph());
  });

  describe('a run of a heavy graph', () => {
    let runner: Runner;
    const heavyPath = (): string => join(dir, 'heavy.onnx');
    beforeAll(async () => {
      await writeFile(heavyPath(), heavyGraph());
      runner = await openNativeRunner(heavyPath(), { device: 'cpu', threads: 1 });
    });
    afterAll(async () => {
      await runner.release();
    });

    it('leaves the event loop free: a timer keeps ticking while onnxruntime computes', async () => {
      const x = Float32Array.from({ length: N * N }, (_, i) => (i % 97) / 7);
      let ticks = 0;
      let ticksWhenDone = -1;
      // The timer starts after the run was asked for and is read the moment the run resolves. A
      // run on the JS thread (the stock binding) allows at most the one turn before it starts;
      // a run on another thread lets the loop turn for as long as it computes (about 50 times
      // on 1 thread here).
      const run = runner.run({ x: { type: 'float32', data: x, dims: [N, N] } }).then((out) => {
        ticksWhenDone = ticks;
        return out;
      });
      const timer = setInterval(() => {
        ticks += 1;
      }, 1);
      let y: RunnerTensor['data'] | undefined;
      try {
        y = (await run).y?.data;
      } finally {
        clearInterval(timer);
      }
      expect(y).toEqual(x);
      expect(ticksWhenDone).toBeGreaterThan(1);
    });

    it('release() waits for a run in flight instead of freeing the session under it', async () => {
      const x = new Float32Array(N * N).fill(0.25);
      const other = await openNativeRunner(heavyPath(), { device: 'cpu', threads: 1 });
      const run = other.run({ x: { type: 'float32', data: x, dims: [N, N] } });
      const released = other.release();
      const out = await run;
      await released;
      expect(out.y?.data).toEqual(x);
    });
  });

  it('gives the same bytes as the stock runner, through Run and through IoBinding', async () => {
    const feeds = {
      a: f32([0.1, 0.2, 0.3, 1e-7, -3.5, 1e30], [2, 3]),
      b: i64([7, -8, 9, 2 ** 40, 0, -1], [2, 3]),
    };
    const runners = [
      await openStockRunner(mixedPath, { device: 'cpu', threads: 1 }),
      await openNativeRunner(mixedPath, { device: 'cpu', threads: 1 }),
      await openNativeRunner(mixedPath, { device: 'cpu', threads: 1, ioBinding: true }),
    ];
    try {
      const [stock, ...native] = await Promise.all(runners.map((r) => r.run(feeds)));
      for (const out of native) expect(out).toEqual(stock);
    } finally {
      await Promise.all(runners.map((r) => r.release()));
    }
  });

  it('takes run config entries (gpu_graph_id, disable_synchronize_execution_providers)', async () => {
    for (const ioBinding of [false, true]) {
      const runner = await openNativeRunner(mixedPath, { device: 'cpu', threads: 1, ioBinding });
      try {
        const out = await runner.run(
          { a: f32([1, 2, 3], [1, 3]), b: i64([1, 1, 1], [1, 3]) },
          { config: { gpu_graph_id: '1', disable_synchronize_execution_providers: '1' } },
        );
        expect(out.y).toEqual(f32([2, 3, 4], [1, 3]));
      } finally {
        await runner.release();
      }
    }
  });

  it('turns an unusable CUDA provider into a CudaProviderError, and the CPU still works', async () => {
    const open = openNativeRunner(mixedPath, {
      device: 'cuda',
      cuda: {
        deviceId: 0,
        enableCudaGraph: true,
        sdpaKernel: 8,
        userComputeStream: 0n,
        extra: { use_tf32: '0' },
      },
    });
    // On a machine with the CUDA provider and a GPU the session opens instead (docs/gpu.md).
    const result = await open.then(
      async (runner) => {
        await runner.release();
        return 'opened' as const;
      },
      (error: unknown) => error,
    );
    if (result !== 'opened') {
      expect(result).toBeInstanceOf(CudaProviderError);
      expect((result as CudaProviderError).code).toBe('device_unavailable');
      expect((result as Error).message).toMatch(/CUDA execution provider cannot be set up: .+/);
    }
    const cpu = await openNativeRunner(mixedPath, { device: 'cpu', threads: 1 });
    try {
      const out = await cpu.run({ a: f32([1, 2, 3], [1, 3]), b: i64([0, 0, 0], [1, 3]) });
      expect(out.y).toEqual(f32([1, 2, 3], [1, 3]));
    } finally {
      await cpu.release();
    }
  });
});
