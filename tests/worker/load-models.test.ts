import { describe, expect, it, vi } from 'vitest';

// The native binding failing to load (no koffi on this machine, say): the one thing this
// machine cannot show for real, so only the native runner's opening is made to fail.
vi.mock('../../gpu-worker/src/runner/native-runner.ts', () => ({
  openNativeRunner: () => Promise.reject(new Error("Cannot find module 'koffi'")),
}));

const { loadModels } = await import('../../gpu-worker/src/worker/load-models.ts');
const { ModelNotFoundError } = await import('../../gpu-worker/src/sampler/index.ts');

describe('loadModels with the native runner', () => {
  it('falls back to the stock binding where the native one cannot load, and says why', async () => {
    const models = await loadModels(['models/shapes-mmdit-s'], {
      device: 'cpu',
      threads: 1,
      runner: 'native',
    });
    const model = models.get('shapes-mmdit-s');
    expect(model?.runner).toBe('stock');
    expect(model?.runnerFallback).toContain("Cannot find module 'koffi'");
    await Promise.all([...models.values()].map((m) => m.release()));
  });

  it('does not hide a model error behind the fallback', async () => {
    await expect(
      loadModels(['models/does-not-exist'], { device: 'cpu', runner: 'native' }),
    ).rejects.toBeInstanceOf(ModelNotFoundError);
  });
});
