import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILTINS = new Set(builtinModules);

describe('the SDK bundles for browsers', () => {
  for (const entry of ['sdk/client/index.ts', 'sdk/webhooks/index.ts']) {
    it(`${entry}: no Node built-in, no server code, no zod`, async () => {
      const result = await build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      const imports = Object.values(result.metafile.inputs).flatMap((i) =>
        i.imports.map((x) => x.path),
      );
      expect(imports.filter((p) => p.startsWith('node:') || BUILTINS.has(p))).toEqual([]);
      // Only the SDK's own files: the server's schemas and events came in as types only.
      expect(inputs.filter((p) => !p.startsWith(entry.split('/').slice(0, 2).join('/')))).toEqual(
        [],
      );
      const code = result.outputFiles[0]?.text ?? '';
      expect(code).not.toMatch(/\brequire\(|from ["']node:/);
      expect(code).toContain(entry.includes('client') ? 'Ditserve' : 'crypto.subtle');
    });
  }
});

/** The restricted-import messages ESLint gives `code` as if it were the file at `path`. */
async function restricted(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: ROOT }).lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.endsWith('no-restricted-imports'))
    .map((m) => m.message);
}

describe('lint keeps the SDK and the examples on their side', () => {
  it('the SDK takes server modules and zod as types only, and no Node built-ins', async () => {
    const file = 'sdk/client/types.ts';
    for (const line of [
      "import { Generation } from '../../functions/api/schemas/generation.ts';",
      "import { webhookBody } from '../../core/webhooks/events.ts';",
      "import { z } from 'zod';",
      "import { createHmac } from 'node:crypto';",
      "import { Buffer } from 'buffer';",
    ]) {
      expect(await restricted(file, `${line}\nexport {};\n`), line).toHaveLength(1);
    }
    for (const line of [
      "import type { Generation } from '../../functions/api/schemas/generation.ts';",
      "import type { z } from '@hono/zod-openapi';",
    ]) {
      expect(await restricted(file, `${line}\nexport {};\n`), line).toEqual([]);
    }
  });

  it('examples import the package by name, not the repository by path', async () => {
    expect(
      await restricted(
        'examples/generate.ts',
        "import { Ditserve } from '../sdk/client/index.ts';\nexport {};\n",
      ),
    ).toHaveLength(1);
    expect(
      await restricted(
        'examples/generate.ts',
        "import { Ditserve } from 'ditserve/client';\nexport {};\n",
      ),
    ).toEqual([]);
  });
});
