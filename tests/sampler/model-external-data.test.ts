import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, ModelFileMissingError } from '../../gpu-worker/src/sampler/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// The shipped model keeps its weights in <component>/weights.bin (ONNX external data), which a
// careless copy of only the .onnx files leaves behind; onnxruntime's own error names neither the
// model nor the fix.
describe('a shipped component without its weights.bin', () => {
  it('fails to load with model_file_missing naming the file', async () => {
    const dir = join(await tempDir(), 'shapes-mmdit-s');
    await cp('models/shapes-mmdit-s', dir, { recursive: true });
    const weights = join(dir, 'transformer', 'weights.bin');
    await rm(weights);
    const load = loadModel(dir, { device: 'cpu', threads: 1 });
    await expect(load).rejects.toBeInstanceOf(ModelFileMissingError);
    await expect(load).rejects.toMatchObject({ code: 'model_file_missing' });
    await expect(load).rejects.toThrow(`missing weights file ${weights}`);
  });
});
