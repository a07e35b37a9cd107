/**
 * Bundles an entry point into one file for the GPU machine: by default the CLI into
 * dist/gpu/ditserve.mjs; `tsx scripts/bundle-gpu.ts <entry> <outfile>` bundles another (e.g. the
 * worker process, gpu-worker/src/worker/main.ts).
 *
 * The GPU machine has no npm registry and no node_modules of ours; scripts/gpu-machine brings
 * node and onnxruntime-node and puts them on NODE_PATH (docs/gpu.md). Node's ESM loader
 * ignores NODE_PATH, so onnxruntime-node and sharp stay external *and* are loaded through a
 * CommonJS `require` (which honours NODE_PATH) created in the bundle's banner. sharp is only
 * loaded for WebP/JPEG output; PNG works without it.
 *
 * An entry that uses startThreadSampler (gpu-worker/src/worker/thread-sampler.ts) also needs the
 * sampler thread's own entry: it is bundled next to the output, with the output's extension,
 * which is where the thread sampler looks for it.
 */
import { basename, dirname, extname, join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';

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

const THREAD_ENTRY = 'gpu-worker/src/worker/sampler-thread.ts';
// The module that resolves THREAD_ENTRY at run time: bundled in, it needs the thread's file.
const THREAD_SPAWNER = 'gpu-worker/src/worker/sampler-thread-handle.ts';

const options = {
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
} satisfies BuildOptions;

async function bundle(from: string, to: string): Promise<string[]> {
  const result = await build({ ...options, entryPoints: [from], outfile: to });
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`${to}: ${(bytes / 1024).toFixed(0)} KiB (external: ${EXTERNAL.join(', ')})`);
  return Object.keys(result.metafile.inputs);
}

const inputs = await bundle(entry, outfile);
if (inputs.some((input) => input.endsWith(THREAD_SPAWNER))) {
  const thread = join(dirname(outfile), `${basename(THREAD_ENTRY, '.ts')}${extname(outfile)}`);
  await bundle(THREAD_ENTRY, thread);
}
