import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readdirSync } from 'node:fs';
import { REPO_ROOT } from './model-files.ts';

/**
 * The files the API serves to browsers that esbuild cannot bundle, for the API's afterBundling
 * hook:
 * - Swagger UI (/docs): the few swagger-ui-dist files it uses, into node_modules/swagger-ui-dist/
 *   beside the bundle, where `createRequire(import.meta.url).resolve('swagger-ui-dist/…')` in
 *   functions/api/routes/docs.ts finds them as it does in the sources;
 * - the playground: functions/api/playground/* into playground/ beside the bundle, the second
 *   place functions/api/routes/playground.ts looks.
 */
export const SWAGGER_FILES = [
  'package.json',
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-16x16.png',
  'favicon-32x32.png',
] as const;

export const PLAYGROUND_DIR = join(REPO_ROOT, 'functions/api/playground');

export function swaggerDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Shell commands that copy those files into the bundle's output folder. */
export function copyApiAssetsCommands(outputDir: string): string[] {
  const swagger = swaggerDistDir();
  const swaggerOut = `${outputDir}/node_modules/swagger-ui-dist`;
  const playgroundOut = `${outputDir}/playground`;
  return [
    `mkdir -p ${quote(swaggerOut)} ${quote(playgroundOut)}`,
    ...SWAGGER_FILES.map((f) => `cp ${quote(join(swagger, f))} ${quote(`${swaggerOut}/${f}`)}`),
    ...readdirSync(PLAYGROUND_DIR)
      .sort()
      .map((f) => `cp ${quote(join(PLAYGROUND_DIR, f))} ${quote(`${playgroundOut}/${f}`)}`),
  ];
}
