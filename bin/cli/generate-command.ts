import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readOptional, UsageError } from '../../core/config.ts';
import { SETTINGS } from '../../core/settings.ts';
import { StaticModelCatalog } from '../../core/model-catalog.ts';
import { parseGeneration } from '../../functions/api/services/parse-generation.ts';
import { modelInfoFrom } from '../../gpu-worker/src/model-contract/index.ts';
import {
  encodeImage,
  ensureEncoder,
  generate,
  metadataFor,
  ModelNotFoundError,
  perImageRequests,
  readModelConfig,
  type ImageFormat,
} from '../../gpu-worker/src/sampler/index.ts';
import { loadWithFallback } from '../../gpu-worker/src/worker/load-models.ts';
import { GENERATE_HELP, parseGenerateArgs, type GenerateArgs } from './generate-args.ts';
import { localTimings, printReport, sampleHere, type WrittenImage } from './generate-report.ts';
import { openFiles } from './open-files.ts';
import { DEFAULT_MODEL_DIR } from './package-paths.ts';

async function readConfig(dir: string) {
  try {
    return await readModelConfig(dir);
  } catch (error) {
    if (error instanceof ModelNotFoundError && dir === DEFAULT_MODEL_DIR) {
      throw new ModelNotFoundError(
        `${error.message}\nThe shipped model is missing from this installation (${dir}): ` +
          'reinstall, or pass --model <dir> (a folder with model_index.json, see docs/model-format.md).',
        { cause: error },
      );
    }
    throw error;
  }
}

/** Where file i goes: --output for a single file, else <out-dir>/ditserve-<seed>.<format>. */
export function outputPath(args: GenerateArgs, seed: number, format: string = args.format): string {
  return resolve(args.output ?? join(args.outDir, `ditserve-${seed}.${format}`));
}

/** The image format asked for; the options only a video model takes are refused here. */
function imageFormatOf(args: GenerateArgs): ImageFormat {
  if (args.format === 'mp4') {
    throw new UsageError('MP4 output is for video models: write .png, .webp or .jpg');
  }
  for (const [flag, value] of [
    ['--frames', args.frames],
    ['--init-image', args.initImage],
  ] as const) {
    if (value !== undefined) throw new UsageError(`${flag} is for video models`);
  }
  return args.format;
}

export async function writeImage(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** `ditserve generate` on this machine: the request checked as the API does, then sampled here. */
async function generateHere(args: GenerateArgs): Promise<number> {
  const t0 = performance.now();
  const dir = resolve(args.model ?? DEFAULT_MODEL_DIR);
  const config = await readConfig(args.model ?? DEFAULT_MODEL_DIR);
  if (config.manifest.modality === 'video') {
    const { generateVideoHere } = await import('./generate-video.ts');
    return generateVideoHere(args, config, t0);
  }
  const format = imageFormatOf(args);
  await ensureEncoder(format); // before minutes of work, not after
  const { params, warnings } = parseGeneration(
    args.body,
    new StaticModelCatalog([modelInfoFrom(config)]),
  );
  // The worker's loader: native where asked for (or auto on CUDA), stock where it cannot load.
  const model = await loadWithFallback(dir, {
    device: args.device,
    runner: args.runner,
    opsDir: readOptional(process.env, SETTINGS.opsDir),
    ...(args.threads === undefined ? {} : { threads: args.threads }),
  });
  if (model.runnerFallback !== null) {
    process.stderr.write(
      `native runner unavailable, using the stock one: ${model.runnerFallback}\n`,
    );
  }
  const t1 = performance.now();
  const results = await sampleHere(model, (onProgress) =>
    generate(model, perImageRequests(params), { onProgress }),
  );
  const t2 = performance.now();
  const { name, version } = model.config.manifest;
  const images: WrittenImage[] = [];
  for (const result of results) {
    const file = await encodeImage(
      result,
      format,
      metadataFor({ ...result, model: `${name}@${version}` }),
      args.quality === undefined ? {} : { quality: args.quality },
    );
    const path = outputPath(args, result.seed);
    await writeImage(path, file);
    images.push({ path, bytes: file.length, seed: result.seed });
  }
  const t3 = performance.now();
  const [first] = images;
  if (!first) throw new Error('generate() returned no image');
  printReport(
    args,
    {
      ...first,
      images,
      format,
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      steps: params.steps,
      guidanceScale: params.guidanceScale,
      sampler: params.sampler,
      width: params.width,
      height: params.height,
      model: { name, version, dir: model.config.dir },
      device: model.device,
      deviceFallback: model.fallbackReason,
      warnings,
      timings: localTimings(t0, t1, t2, t3),
    },
    model.device,
  );
  if (args.open) openFiles(images.map((i) => i.path));
  return 0;
}

/** `ditserve generate`: a prompt → image files, here or on a running ditserve (--base-url). */
export async function generateCommand(argv: readonly string[]): Promise<number> {
  const args = parseGenerateArgs(argv);
  if (args.help) {
    process.stdout.write(GENERATE_HELP);
    return 0;
  }
  if (args.baseUrl !== undefined) {
    const { generateRemote } = await import('./generate-remote.ts');
    return generateRemote(args);
  }
  return generateHere(args);
}
