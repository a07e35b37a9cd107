import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../../core/config.ts';
import { StaticModelCatalog } from '../../core/model-catalog.ts';
import { parseGeneration } from '../../functions/api/services/parse-generation.ts';
import { modelInfoFrom } from '../../gpu-worker/src/model-contract/index.ts';
import {
  encodeImage,
  ensureEncoder,
  generate,
  metadataFor,
  ModelNotFoundError,
  readModelConfig,
  type ImageFormat,
} from '../../gpu-worker/src/sampler/index.ts';
import { loadWithFallback } from '../../gpu-worker/src/worker/load-models.ts';
import { GENERATE_HELP, parseGenerateArgs, type GenerateArgs } from './generate-args.ts';
import { openFiles } from './open-files.ts';
import { DEFAULT_MODEL_DIR } from './package-paths.ts';
import { ProgressBar } from './progress-bar.ts';

/** One written image in `ditserve generate --json`. */
export interface WrittenImage {
  readonly path: string;
  readonly bytes: number;
  readonly seed: number;
}

/** What `ditserve generate --json` prints (one JSON object on stdout). */
export interface GenerateReport {
  /** The generation's id, when a running ditserve made it. */
  readonly id?: string;
  /** The first image's path, bytes and seed (the only one unless --n). */
  readonly path: string;
  readonly bytes: number;
  readonly seed: number;
  readonly images: readonly WrittenImage[];
  readonly format: string;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  readonly width: number;
  readonly height: number;
  readonly model: { readonly name: string; readonly version: string; readonly dir?: string };
  readonly device: string;
  readonly deviceFallback: string | null;
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

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

/** Prints the report: JSON on stdout with --json, else warnings and a summary on stderr. */
export function printReport(args: GenerateArgs, report: GenerateReport, where: string): void {
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  for (const warning of report.warnings) process.stderr.write(`ditserve: warning: ${warning}\n`);
  const seconds = ((report.timings.generateMs ?? 0) / 1000).toFixed(2);
  for (const image of report.images) {
    process.stderr.write(
      `wrote ${image.path} (${report.width}x${report.height}, seed ${image.seed}, ` +
        `${report.steps} ${report.sampler} steps)\n`,
    );
  }
  process.stderr.write(`${report.images.length} image(s) in ${seconds} s on ${where}\n`);
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
    ...(args.threads === undefined ? {} : { threads: args.threads }),
  });
  if (model.runnerFallback !== null) {
    process.stderr.write(
      `native runner unavailable, using the stock one: ${model.runnerFallback}\n`,
    );
  }
  const t1 = performance.now();
  const bar = new ProgressBar(process.stderr);
  let results;
  try {
    const requests = Array.from({ length: params.numImages }, (_, i) => ({
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      seed: params.seed + i,
      steps: params.steps,
      guidanceScale: params.guidanceScale,
      width: params.width,
      height: params.height,
      sampler: params.sampler,
    }));
    results = await generate(model, requests, {
      onProgress: (step, total, elapsed) => {
        bar.update(step, total, elapsed);
      },
    });
  } finally {
    bar.clear();
    await model.release();
  }
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
      timings: {
        loadMs: round(t1 - t0),
        generateMs: round(t2 - t1),
        encodeMs: round(t3 - t2),
        totalMs: round(t3 - t0),
      },
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
