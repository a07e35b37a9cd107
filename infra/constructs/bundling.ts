import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** esbuild banner: `require` for CommonJS dependencies inside an ES module bundle. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __ditserveCreateRequire } from 'node:module'; const require = __ditserveCreateRequire(import.meta.url);";

/**
 * How every ditserve Lambda is bundled: one minified ES module for Node 22 with an external
 * source map. The AWS SDK is bundled too (tree-shaken): its version is the lockfile's, not the
 * runtime's, so the conditional writes the job store relies on behave as tested.
 */
export function lambdaBundling(extra: Partial<BundlingOptions> = {}): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    platform: 'node',
    minify: true,
    sourceMap: true,
    sourceMapMode: SourceMapMode.EXTERNAL,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    externalModules: [],
    ...extra,
  };
}
