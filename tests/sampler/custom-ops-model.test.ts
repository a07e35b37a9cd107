import { execFileSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OrtError } from '../../gpu-worker/src/runner/index.ts';
import {
  generate,
  loadModel,
  ModelConfigError,
  ModelFileMissingError,
  readModelConfig,
  type DitModel,
} from '../../gpu-worker/src/sampler/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { patchJson, writeTestModel } from '../helpers/test-model.ts';

// A model folder whose manifest says its CPU graphs use ditserve's custom ops (custom_ops), as an
// export with the fused or FP8 ops would (docs/custom-ops.md): its sessions register the op
// library of DITSERVE_OPS_DIR, built here for the CPU with g++ (gpu-worker/ops/build.sh).
const OPS = join(import.meta.dirname, '../../gpu-worker/ops');
const request = {
  prompt: 'a red circle',
  seed: 7,
  steps: 4,
  guidanceScale: 3,
  width: 8,
  height: 4,
};

async function pixelsOf(model: DitModel): Promise<Uint8Array> {
  try {
    const [result] = await generate(model, [request]);
    if (!result) throw new Error('no result');
    return result.pixels;
  } finally {
    await model.release();
  }
}

describe('a model whose graphs use ditserve’s custom ops (manifest custom_ops)', () => {
  let dir: string;
  let plain: string;
  let withOps: string;
  let opsDir: string;
  beforeAll(async () => {
    dir = await tempDir('custom-ops-model-');
    opsDir = join(dir, 'ops');
    execFileSync('bash', [join(OPS, 'build.sh'), 'cpu', opsDir]);
    plain = await writeTestModel(join(dir, 'plain'));
    withOps = join(dir, 'with-ops');
    await cp(plain, withOps, { recursive: true });
    await patchJson(join(withOps, 'model_index.json'), (index) => {
      (index.ditserve as Record<string, unknown>).custom_ops = ['cpu'];
    });
  }, 120_000);

  it('names the devices in the manifest, and a device it does not know is a config error', async () => {
    expect((await readModelConfig(withOps)).manifest.customOps).toEqual(['cpu']);
    expect((await readModelConfig(plain)).manifest.customOps).toEqual([]);
    const bad = join(dir, 'bad');
    await cp(plain, bad, { recursive: true });
    await patchJson(join(bad, 'model_index.json'), (index) => {
      (index.ditserve as Record<string, unknown>).custom_ops = ['tpu'];
    });
    await expect(readModelConfig(bad)).rejects.toThrow(ModelConfigError);
    await expect(readModelConfig(bad)).rejects.toThrow(/"custom_ops" lists the device kinds/);
  });

  it('is refused without the op library, saying how to build and point to it', async () => {
    const load = loadModel(withOps, { device: 'cpu', runner: 'native', warmup: false });
    await expect(load).rejects.toThrow(ModelFileMissingError);
    await expect(load).rejects.toThrow(/build\.sh cpu DIR, then DITSERVE_OPS_DIR=DIR/);
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    await expect(
      loadModel(withOps, { device: 'cpu', runner: 'native', opsDir: empty, warmup: false }),
    ).rejects.toThrow(/missing op library .*libditserve_ops_cpu\.so/);
  });

  it('registers the library in its sessions: a broken one fails the load, the built one gives the same image', async () => {
    const broken = join(dir, 'broken');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'libditserve_ops_cpu.so'), 'not a shared library');
    const options = { device: 'cpu', runner: 'native', threads: 1 } as const;
    await expect(loadModel(withOps, { ...options, opsDir: broken })).rejects.toThrow(
      /Failed to load library .*broken\/libditserve_ops_cpu\.so/,
    );
    // A model without custom_ops never opens the library, broken or not.
    const expected = await pixelsOf(await loadModel(plain, { ...options, opsDir: broken }));
    expect(await pixelsOf(await loadModel(withOps, { ...options, opsDir }))).toEqual(expected);
  });

  it('the stock binding cannot register it and says to use the native one', async () => {
    await expect(
      loadModel(withOps, { device: 'cpu', runner: 'stock', opsDir, warmup: false }),
    ).rejects.toThrow(OrtError);
    await expect(
      loadModel(withOps, { device: 'cpu', runner: 'stock', opsDir, warmup: false }),
    ).rejects.toThrow(/use the native runner/);
  });
});
