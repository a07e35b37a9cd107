import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { copyApiAssetsCommands } from '../../infra/api-assets.ts';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/bundling.ts';
import { REPO_ROOT } from '../../infra/model-files.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/**
 * The docs and playground routes bundled the way the API's Lambda is (one ES module, esbuild),
 * into a folder outside the repository, so nothing resolves back to its node_modules.
 */
async function bundle(): Promise<string> {
  const dir = await tempDir('ditserve-api-bundle-');
  const entry = join(dir, 'entry.ts');
  await writeFile(
    entry,
    [
      `import { Hono } from 'hono';`,
      `import { docsRoutes } from ${JSON.stringify(join(REPO_ROOT, 'functions/api/routes/docs.ts'))};`,
      `import { playgroundRoutes } from ${JSON.stringify(join(REPO_ROOT, 'functions/api/routes/playground.ts'))};`,
      `export const app = new Hono().route('/', docsRoutes()).route('/', playgroundRoutes());`,
      `app.onError((error, c) => c.text(String(error), 404));`,
    ].join('\n'),
  );
  const out = join(dir, 'asset');
  await build({
    entryPoints: [entry],
    outfile: join(out, 'index.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    banner: { js: ESM_REQUIRE_BANNER },
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  return out;
}

const load = async (out: string, copy: number) =>
  ((await import(`${pathToFileURL(join(out, 'index.mjs')).href}?copy=${copy}`)) as { app: Hono })
    .app;

describe('Swagger UI and the playground in the API Lambda bundle', () => {
  it('without the copied files: /docs falls back to a page that links the document', async () => {
    const out = await bundle();
    const app = await load(out, 0);
    const page = await (await app.request('/docs')).text();
    expect(page).toContain('href="openapi.json"');
    expect(page).not.toContain('swagger-ui-bundle.js');
    expect((await app.request('/docs/assets/swagger-ui-bundle.js')).status).toBe(404);
  });

  it('with the afterBundling commands run: every file is served from beside the bundle', async () => {
    const out = await bundle();
    for (const command of copyApiAssetsCommands(out)) execFileSync('sh', ['-c', command]);
    const app = await load(out, 1);
    expect(await (await app.request('/docs')).text()).toContain('docs/assets/swagger-ui-bundle.js');
    for (const path of [
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/swagger-ui.css',
      '/docs/assets/init.js',
      '/playground',
      '/playground/app.js',
      '/playground/sse.js',
      '/playground/playground.css',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
      expect((await response.arrayBuffer()).byteLength, path).toBeGreaterThan(100);
    }
  });
});
