import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  openStockRunner,
  PerShapeRunner,
  RunnerReleasedError,
  type Runner,
} from '../../gpu-worker/src/runner/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { f32, i64, mixedGraph, runnerContract } from './runner.contract.ts';

runnerContract('per-shape runner (over the stock runner)', async (path, options) => {
  const first = await openStockRunner(path, options);
  return new PerShapeRunner(first, () => openStockRunner(path, options));
});

describe('per-shape runner: one session per input shape', () => {
  let path: string;
  const opened: Runner[] = [];
  const released: Runner[] = [];
  /** The stock runner, with its opens and releases recorded. */
  const open = async (): Promise<Runner> => {
    const r = await openStockRunner(path, { device: 'cpu', threads: 1 });
    opened.push(r);
    const release = r.release.bind(r);
    return Object.assign(r, {
      release: async () => {
        released.push(r);
        await release();
      },
    });
  };
  const feeds = (batch: number) => ({
    a: f32(
      Array.from({ length: 3 * batch }, (_, k) => k / 2),
      [batch, 3],
    ),
    b: i64(
      Array.from({ length: 3 * batch }, (_, k) => k),
      [batch, 3],
    ),
  });

  beforeAll(async () => {
    const dir = await tempDir('per-shape-');
    path = join(dir, 'mixed.onnx');
    await writeFile(path, mixedGraph());
  });

  it('gives the first shape the session it was made with and opens one for each new shape', async () => {
    const first = await open();
    const runner = new PerShapeRunner(first, open, 2);
    const plain = await openStockRunner(path, { device: 'cpu', threads: 1 });
    for (const batch of [1, 2, 1, 2, 1]) {
      expect(await runner.run(feeds(batch))).toEqual(await plain.run(feeds(batch)));
    }
    expect(opened).toHaveLength(2);
    expect(runner.sessions).toBe(2);

    // A third shape over maxSessions 2: the least recently used (batch 2) is released.
    await runner.run(feeds(3));
    expect(opened).toHaveLength(3);
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual([opened[1]]);
    expect(runner.sessions).toBe(2);
    // Batch 2 again: a new session, and batch 1, now least recent, goes.
    await runner.run(feeds(2));
    expect(opened).toHaveLength(4);
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual([opened[1], opened[0]]);

    await runner.release();
    await plain.release();
    expect(new Set(released)).toEqual(new Set(opened.slice(0, 4)));
    await expect(runner.run(feeds(1))).rejects.toThrow(RunnerReleasedError);
    expect(opened).toHaveLength(4);
  });

  it('opens a shape once for concurrent first runs of it, and retries a failed open', async () => {
    opened.length = 0;
    let fail = true;
    const flaky = async (): Promise<Runner> => {
      if (fail) {
        fail = false;
        throw new Error('cannot open');
      }
      return open();
    };
    const runner = new PerShapeRunner(await open(), flaky);
    await runner.run(feeds(1));
    await expect(runner.run(feeds(2))).rejects.toThrow('cannot open');
    const outs = await Promise.all([runner.run(feeds(2)), runner.run(feeds(2))]);
    expect(outs[0]).toEqual(outs[1]);
    expect(opened).toHaveLength(2);
    await runner.release();
  });

  it('releases an evicted session only after the runs in flight on it', async () => {
    opened.length = 0;
    released.length = 0;
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    /** The first session's runs wait for the gate. */
    const first = await open();
    const run = first.run.bind(first);
    Object.assign(first, {
      run: async (...args: Parameters<Runner['run']>) => {
        await gate;
        return run(...args);
      },
    });
    const runner = new PerShapeRunner(first, open, 1);
    const pending = runner.run(feeds(1));
    await runner.run(feeds(2)); // evicts the batch-1 session, whose run has not ended
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual([]);
    openGate();
    const plain = await openStockRunner(path, { device: 'cpu', threads: 1 });
    expect(await pending).toEqual(await plain.run(feeds(1)));
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual([first]);
    await runner.release();
    await plain.release();
    expect(released).toEqual([first, opened[1]]);
  });

  it('refuses a maxSessions below one', async () => {
    const first = await open();
    expect(() => new PerShapeRunner(first, open, 0)).toThrow(RangeError);
    await first.release();
  });
});
