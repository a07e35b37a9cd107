import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OrtError,
  RunnerInputError,
  RunnerReleasedError,
  type OpenRunner,
  type Runner,
  type RunnerTensor,
} from '../../gpu-worker/src/runner/index.ts';
import { attr, DataType, GraphBuilder } from '../helpers/onnx-builder.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_MODEL, writeTestModel } from '../helpers/test-model.ts';

/** y = a + float(b), z = b: one float32 and one int64 output, a dynamic batch, a fixed width. */
export function mixedGraph(): Uint8Array {
  const g = new GraphBuilder('mixed');
  const a = g.input('a', 'float32', ['B', 3]);
  const b = g.input('b', 'int64', ['B', 3]);
  g.node('Add', [a, g.node('Cast', [b], { to: attr.int(DataType.FLOAT) })], {}, 'y');
  g.node('Identity', [b], {}, 'z');
  g.output('y', 'float32', ['B', 3]);
  g.output('z', 'int64', ['B', 3]);
  return g.toBytes();
}

/** uint8 in and out: y = x + 1 (wrapping), z = float32(x). */
export function bytesGraph(): Uint8Array {
  const g = new GraphBuilder('bytes');
  const x = g.input('x', 'uint8', ['N']);
  g.node('Add', [x, g.constant('uint8', [], [1])], {}, 'y');
  g.node('Cast', [x], { to: attr.int(DataType.FLOAT) }, 'z');
  g.output('y', 'uint8', ['N']);
  g.output('z', 'float32', ['N']);
  return g.toBytes();
}

export const u8 = (data: number[], dims: number[]): RunnerTensor => ({
  type: 'uint8',
  data: Uint8Array.from(data),
  dims,
});
export const f32 = (data: number[], dims: number[]): RunnerTensor => ({
  type: 'float32',
  data: Float32Array.from(data),
  dims,
});
export const i64 = (data: number[], dims: number[]): RunnerTensor => ({
  type: 'int64',
  data: BigInt64Array.from(data, (v) => BigInt(v)),
  dims,
});

/**
 * What every Runner adapter must do, on small graphs from tests/helpers (onnx-builder and the
 * closed-form test model). `open` is the adapter's OpenRunner on the CPU.
 */
export function runnerContract(name: string, open: OpenRunner): void {
  describe(`${name}: the Runner contract`, () => {
    let dir: string;
    let mixedPath: string;
    let mixed: Runner;
    let modelDir: string;

    beforeAll(async () => {
      dir = await tempDir('runner-');
      mixedPath = join(dir, 'mixed.onnx');
      await writeFile(mixedPath, mixedGraph());
      modelDir = await writeTestModel(join(dir, 'model'));
      mixed = await open(mixedPath, { device: 'cpu', threads: 1 });
    });
    afterAll(async () => {
      await mixed.release();
    });

    it('reports the graph inputs and outputs in graph order', () => {
      expect(mixed.inputNames).toEqual(['a', 'b']);
      expect(mixed.outputNames).toEqual(['y', 'z']);
    });

    it('returns every output, float32 and int64, with its shape', async () => {
      const out = await mixed.run({
        a: f32([0.5, 1, 1.5, 2, 2.5, 3], [2, 3]),
        b: i64([1, -2, 3, 4, 5, -6], [2, 3]),
      });
      expect(Object.keys(out).sort()).toEqual(['y', 'z']);
      expect(out.y).toEqual(f32([1.5, -1, 4.5, 6, 7.5, -3], [2, 3]));
      expect(out.z).toEqual(i64([1, -2, 3, 4, 5, -6], [2, 3]));
    });

    it('takes and returns uint8 tensors', async () => {
      const path = join(dir, 'bytes.onnx');
      await writeFile(path, bytesGraph());
      const bytes = await open(path, { device: 'cpu', threads: 1 });
      try {
        const out = await bytes.run({ x: u8([0, 7, 254, 255], [4]) });
        expect(out.y).toEqual(u8([1, 8, 255, 0], [4]));
        expect(out.z).toEqual(f32([0, 7, 254, 255], [4]));
      } finally {
        await bytes.release();
      }
    });

    it('runs an empty batch', async () => {
      const out = await mixed.run({ a: f32([], [0, 3]), b: i64([], [0, 3]) });
      expect(out.y).toEqual(f32([], [0, 3]));
    });

    it('computes the test model transformer in closed form', async () => {
      const runner = await open(join(modelDir, 'transformer', 'model.onnx'), {
        device: 'cpu',
        threads: 1,
      });
      try {
        expect(runner.inputNames).toEqual([
          'hidden_states',
          'timestep',
          'encoder_hidden_states',
          'pooled_projections',
        ]);
        // One sample, C = 3, 1×1 latent; hidden all 0.6 (mean 0.6), pooled (0.1, 0.2, 0.3).
        const x = [1, 2, 3];
        const pooled = [0.1, 0.2, 0.3];
        const t = 500;
        const out = await runner.run({
          hidden_states: f32(x, [1, 3, 1, 1]),
          timestep: f32([t], [1]),
          encoder_hidden_states: f32(new Array<number>(3 * TEST_MODEL.maxLength).fill(0.6), [
            1,
            TEST_MODEL.maxLength,
            3,
          ]),
          pooled_projections: f32(pooled, [1, 3]),
        });
        const v = out.sample;
        expect(v?.dims).toEqual([1, 3, 1, 1]);
        const expected = x.map(
          (xi, k) =>
            (TEST_MODEL.alpha * (xi - ((pooled[k] ?? 0) + 0.6))) /
            (t / TEST_MODEL.numTrainTimesteps),
        );
        Array.from(v?.data ?? [], Number).forEach((got, k) => {
          expect(got).toBeCloseTo(expected[k] ?? NaN, 5);
        });
      } finally {
        await runner.release();
      }
    });

    it('gives each of several concurrent runs its own result', async () => {
      const runs = [1, 2, 3, 4].map((k) =>
        mixed.run({ a: f32([k, k, k], [1, 3]), b: i64([k, 0, -k], [1, 3]) }),
      );
      const results = await Promise.all(runs);
      results.forEach((out, i) => {
        const k = i + 1;
        expect(out.y).toEqual(f32([2 * k, k, 0], [1, 3]));
      });
    });

    it('refuses feeds with a missing or an unknown input name before running', async () => {
      await expect(mixed.run({ a: f32([1, 2, 3], [1, 3]) })).rejects.toThrow(RunnerInputError);
      await expect(
        mixed.run({ a: f32([1, 2, 3], [1, 3]), b: i64([1, 2, 3], [1, 3]), c: f32([1], [1]) }),
      ).rejects.toThrow(/unknown c/);
    });

    it('refuses data whose length disagrees with its dims, or a mislabelled type', async () => {
      await expect(
        mixed.run({ a: f32([1, 2, 3, 4], [1, 3]), b: i64([1, 2, 3], [1, 3]) }),
      ).rejects.toThrow(RunnerInputError);
      const wrongType = {
        type: 'int64',
        data: new Float32Array(3),
        dims: [1, 3],
      } as unknown as RunnerTensor;
      await expect(mixed.run({ a: f32([1, 2, 3], [1, 3]), b: wrongType })).rejects.toThrow(
        RunnerInputError,
      );
    });

    it("passes on onnxruntime's refusal of a shape as an OrtError with its message", async () => {
      const run = mixed.run({ a: f32([1, 2, 3, 4], [2, 2]), b: i64([1, 2, 3, 4], [2, 2]) });
      await expect(run).rejects.toThrow(OrtError);
      await expect(run).rejects.toThrow(/invalid dimensions for input: a/);
    });

    it('refuses a missing file and a corrupt one with an OrtError', async () => {
      await expect(open(join(dir, 'none.onnx'), { device: 'cpu' })).rejects.toThrow(OrtError);
      const corrupt = join(dir, 'corrupt.onnx');
      await writeFile(corrupt, Uint8Array.from([1, 2, 3, 4]));
      await expect(open(corrupt, { device: 'cpu' })).rejects.toThrow(/protobuf/i);
    });

    it('releases once however often release() is called; a later run is refused', async () => {
      const runner = await open(mixedPath, { device: 'cpu', threads: 1 });
      await Promise.all([runner.release(), runner.release()]);
      await runner.release();
      await expect(
        runner.run({ a: f32([1, 2, 3], [1, 3]), b: i64([1, 2, 3], [1, 3]) }),
      ).rejects.toThrow(RunnerReleasedError);
    });

    it("writes onnxruntime's profile when opened with a prefix", async () => {
      const profileDir = join(dir, `profile-${name}`);
      await mkdir(profileDir, { recursive: true });
      const runner = await open(mixedPath, {
        device: 'cpu',
        threads: 1,
        profilePrefix: join(profileDir, 'mixed'),
      });
      try {
        await runner.run({ a: f32([1, 2, 3], [1, 3]), b: i64([1, 2, 3], [1, 3]) });
        const reported = await runner.endProfiling();
        const files = await readdir(profileDir);
        expect(files).toHaveLength(1);
        const [file = ''] = files;
        expect(file).toMatch(/^mixed.*\.json$/);
        if (reported !== null) expect(reported).toBe(join(profileDir, file));
        const events = JSON.parse(await readFile(join(profileDir, file), 'utf8')) as {
          cat: string;
          args?: { op_name?: string };
        }[];
        // One event per node run, named by its op type.
        expect(events.some((e) => e.cat === 'Node' && e.args?.op_name === 'Add')).toBe(true);
      } finally {
        await runner.release();
      }
    });
  });
}
