import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe("the worker image's bundle", () => {
  it('does not take koffi in: it is required at run time, by the native runner only', async () => {
    // As gpu-worker/Dockerfile bundles the sampler thread: everything but the two native packages.
    const result = await build({
      entryPoints: ['gpu-worker/src/worker/sampler-thread.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: ['onnxruntime-node', 'sharp'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('gpu-worker/src/runner/native-runner.ts'))).toBe(true);
    expect(inputs.filter((p) => p.includes('node_modules/koffi'))).toEqual([]);
    // The banner the Dockerfile adds declares createRequire; the bundle must not import it again.
    const [output] = result.outputFiles;
    expect(output?.text).not.toMatch(/^import \{[^}]*\bcreateRequire\b[^}]*\} from "node:module"/m);
  });
});
