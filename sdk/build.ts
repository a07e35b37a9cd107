import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
export const SDK_DIST = join(ROOT, 'dist', 'sdk');

/**
 * Builds what `ditserve/client` and `ditserve/webhooks` resolve to outside this repository
 * (package.json `exports`): one dependency-free ES module each (`default`, for plain Node ≥ 20
 * and browsers) and, with `types`, their declarations. Platform neutral: a Node built-in reaching
 * a bundle fails the build instead of shipping.
 */
export async function buildSdk({ types = true }: { types?: boolean } = {}): Promise<void> {
  await build({
    entryPoints: {
      client: join(ROOT, 'sdk', 'client', 'index.ts'),
      webhooks: join(ROOT, 'sdk', 'webhooks', 'index.ts'),
    },
    outdir: SDK_DIST,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
  });
  if (types) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'sdk', 'tsconfig.types.json')], {
      stdio: 'inherit',
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildSdk();
  console.log(`built ${SDK_DIST}: client.mjs, webhooks.mjs, types/`);
}
