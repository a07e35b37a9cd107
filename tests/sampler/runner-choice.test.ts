import { describe, expect, it } from 'vitest';
import { cudaListed } from '../../gpu-worker/src/sampler/execution.ts';
import { readModelConfig, resolveRunner } from '../../gpu-worker/src/sampler/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeTestModel } from '../helpers/test-model.ts';

describe('resolveRunner (DITSERVE_RUNNER=auto)', () => {
  it('keeps an explicit choice and runs the CPU through the stock binding', () => {
    expect(resolveRunner('stock', 'cuda')).toBe('stock');
    expect(resolveRunner('native', 'cpu')).toBe('native');
    expect(resolveRunner('auto', 'cpu')).toBe('stock');
  });

  it('takes the native runner for CUDA exactly where onnxruntime-node has a CUDA provider', () => {
    const expected = cudaListed() ? 'native' : 'stock';
    expect(resolveRunner('auto', 'cuda')).toBe(expected);
    expect(resolveRunner('auto', 'auto')).toBe(expected);
  });
});

describe('the step graph in model_index.json', () => {
  it('names the shipped model’s step graphs per device', async () => {
    const config = await readModelConfig('models/shapes-mmdit-s');
    expect(config.manifest.stepGraph).toEqual({ cpu: 'step.onnx', cuda: 'step.fp16.onnx' });
  });

  it('is optional: a model without one steps through its transformer graph', async () => {
    const config = await readModelConfig(await writeTestModel(await tempDir()));
    expect(config.manifest.stepGraph).toBeNull();
  });
});
