import { join } from 'node:path';
import { build } from 'esbuild';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Lints `code` as if it were the file at `path` (an existing file, so typed rules can run). */
async function restrictedImports(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('dependencies point one way (lint)', () => {
  it('fails core/ importing the worker, the API, the CLI or onnxruntime', async () => {
    for (const line of [
      "import { Worker } from '../gpu-worker/src/worker/worker.ts';",
      "import { createApp } from '../functions/api/app.ts';",
      "import { main } from '../bin/ditserve.ts';",
      "import * as ort from 'onnxruntime-node';",
    ]) {
      expect(await restrictedImports('core/job.ts', `${line}\nexport {};\n`), line).toHaveLength(1);
    }
  });

  it('fails the API importing the sampler, the worker or onnxruntime, not the model contract', async () => {
    const file = 'functions/api/services/resolve-params.ts';
    expect(
      await restrictedImports(
        file,
        "import { generate } from '../../../gpu-worker/src/sampler/generate.ts';\n",
      ),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        file,
        "import { Worker } from '../../../gpu-worker/src/worker/worker.ts';\n",
      ),
    ).toHaveLength(1);
    expect(
      await restrictedImports(file, "import * as ort from 'onnxruntime-node';\n"),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        file,
        "import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';\n",
      ),
    ).toEqual([]);
  });

  it('fails the model contract importing a sampler file that loads onnxruntime', async () => {
    expect(
      await restrictedImports(
        'gpu-worker/src/model-contract/index.ts',
        "export { loadModel } from '../sampler/model.ts';\n",
      ),
    ).toHaveLength(1);
  });
});

describe('the Lambda bundles', () => {
  it('never reach onnxruntime or the sampler through any import', async () => {
    for (const entry of [
      'functions/api/lambda.ts',
      'functions/webhook-dispatcher/lambda.ts',
      'functions/sweeper/lambda.ts',
    ]) {
      const result = await build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
        // Packages stay out of the bundle but still show up as imports in the metafile.
        packages: 'external',
      });
      const inputs = Object.keys(result.metafile.inputs);
      const imports = Object.values(result.metafile.inputs).flatMap((i) =>
        i.imports.map((x) => x.path),
      );
      expect(
        imports.filter((p) => p.startsWith('onnxruntime') || p === 'koffi'),
        entry,
      ).toEqual([]);
      const runsModels =
        /gpu-worker\/src\/(worker\/|runner\/|sampler\/(index|model|execution|components|generate)\.ts$)/;
      expect(
        inputs.filter((p) => runsModels.test(p)),
        entry,
      ).toEqual([]);
    }
  });
});
