/**
 * Bundles bench/gpu/ort-cuda.bench.ts for the GPU machine (dist/bench-gpu/ort-cuda.mjs), the way
 * scripts/bundle-gpu.ts bundles the CLI: onnxruntime-node stays external and is loaded through a
 * CommonJS require (which honours gpu-kit's NODE_PATH).
 */
import { build, type Plugin } from 'esbuild';

const requireExternals: Plugin = {
  name: 'require-externals',
  setup(b) {
    b.onResolve({ filter: /^(onnxruntime-node|sharp)$/ }, (args) =>
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

await build({
  entryPoints: ['bench/gpu/ort-cuda.bench.ts'],
  outfile: 'dist/bench-gpu/ort-cuda.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [requireExternals],
  banner: {
    js: "import { createRequire as __benchCreateRequire } from 'node:module';\nconst require = __benchCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
console.log('dist/bench-gpu/ort-cuda.mjs');
