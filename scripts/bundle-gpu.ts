/**
 * Bundles an entry point into one file for the GPU machine: by default the CLI into
 * dist/gpu/ditserve.mjs; `tsx scripts/bundle-gpu.ts <entry> <outfile>` bundles another (e.g. the
 * worker process, gpu-worker/src/worker/main.ts).
 *
 * The GPU machine has no npm registry and no node_modules of ours; gpu-kit brings node and
 * onnxruntime-node and puts them on NODE_PATH (../shared/gpu-kit/README.md). Node's ESM loader
 * ignores NODE_PATH, so onnxruntime-node and sharp stay external *and* are loaded through a
 * CommonJS `require` (which honours NODE_PATH) created in the bundle's banner. sharp is only
 * loaded for WebP/JPEG output; PNG works without it.
 */
import { build, type Plugin } from 'esbuild';

const EXTERNAL = ['onnxruntime-node', 'sharp'];

/** Turns `import … from 'x'` of an external package into `require('x')` via the banner's require. */
const requireExternals: Plugin = {
  name: 'require-externals',
  setup(b) {
    const filter = new RegExp(`^(${EXTERNAL.join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'require-external'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'require-external' },
    );
    b.onLoad({ filter: /.*/, namespace: 'require-external' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const [entry = 'bin/ditserve.ts', outfile = 'dist/gpu/ditserve.mjs'] = process.argv.slice(2);

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [requireExternals],
  banner: {
    js: "import { createRequire as __ditserveCreateRequire } from 'node:module';\nconst require = __ditserveCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`${outfile}: ${(bytes / 1024).toFixed(0)} KiB (external: ${EXTERNAL.join(', ')})`);
