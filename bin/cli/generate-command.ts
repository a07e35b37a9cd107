import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  encodeImage,
  ensureEncoder,
  generate,
  loadModel,
  metadataFor,
  ModelNotFoundError,
} from '../../gpu-worker/src/sampler/index.ts';
import {
  DEFAULT_MODEL_DIR,
  GENERATE_HELP,
  parseGenerateArgs,
  type GenerateArgs,
} from './generate-args.ts';
import { ProgressBar } from './progress-bar.ts';

/** What `ditserve generate --json` prints (one JSON object on stdout). */
export interface GenerateReport {
  readonly path: string;
  readonly format: string;
  readonly bytes: number;
  readonly seed: number;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  readonly width: number;
  readonly height: number;
  readonly model: { readonly name: string; readonly version: string; readonly dir: string };
  readonly device: string;
  readonly deviceFallback: string | null;
  readonly unknownWords: readonly string[];
  readonly truncated: boolean;
  readonly timings: {
    readonly loadMs: number;
    readonly generateMs: number;
    readonly encodeMs: number;
    readonly totalMs: number;
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function load(args: GenerateArgs) {
  try {
    return await loadModel(args.modelDir, {
      device: args.device,
      ...(args.threads === undefined ? {} : { threads: args.threads }),
    });
  } catch (error) {
    if (error instanceof ModelNotFoundError && args.modelDir === DEFAULT_MODEL_DIR) {
      throw new ModelNotFoundError(
        `${error.message}\nThe default model is not in this checkout yet: pass --model <dir> ` +
          '(a folder with model_index.json, see docs/model-format.md).',
        { cause: error },
      );
    }
    throw error;
  }
}

/** `ditserve generate`: one prompt → one image file. Returns the process exit code. */
export async function generateCommand(argv: readonly string[]): Promise<number> {
  const args = parseGenerateArgs(argv);
  if (args.help) {
    process.stdout.write(GENERATE_HELP);
    return 0;
  }
  await ensureEncoder(args.format); // before minutes of work, not after
  const t0 = performance.now();
  const model = await load(args);
  const t1 = performance.now();
  const bar = new ProgressBar(process.stderr);
  let result;
  try {
    [result] = await generate(
      model,
      [
        {
          prompt: args.prompt,
          negativePrompt: args.negativePrompt,
          seed: args.seed,
          steps: args.steps,
          guidanceScale: args.guidanceScale,
          width: args.width,
          height: args.height,
          sampler: args.sampler,
        },
      ],
      {
        onProgress: (step, total, elapsed) => {
          bar.update(step, total, elapsed);
        },
      },
    );
  } finally {
    bar.clear();
    await model.release();
  }
  if (!result) throw new Error('generate() returned no image');
  const t2 = performance.now();
  const { name, version } = model.config.manifest;
  const file = await encodeImage(
    result,
    args.format,
    metadataFor({ ...result, model: `${name}@${version}` }),
    args.quality === undefined ? {} : { quality: args.quality },
  );
  const path = resolve(args.output ?? `ditserve-${result.seed}.${args.format}`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, file);
  const t3 = performance.now();

  const report: GenerateReport = {
    path,
    format: args.format,
    bytes: file.length,
    seed: result.seed,
    prompt: result.prompt,
    negativePrompt: result.negativePrompt,
    steps: result.steps,
    guidanceScale: result.guidanceScale,
    sampler: result.sampler,
    width: result.width,
    height: result.height,
    model: { name, version, dir: model.config.dir },
    device: model.device,
    deviceFallback: model.fallbackReason,
    unknownWords: result.unknownWords,
    truncated: result.truncated,
    timings: {
      loadMs: round(t1 - t0),
      generateMs: round(t2 - t1),
      encodeMs: round(t3 - t2),
      totalMs: round(t3 - t0),
    },
  };
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    const notes = [
      result.unknownWords.length > 0
        ? `unknown words (read as [UNK]): ${result.unknownWords.join(', ')}`
        : '',
      result.truncated ? `the prompt was cut to ${model.tokenizer.maxLength} tokens` : '',
    ].filter(Boolean);
    for (const note of notes) process.stderr.write(`ditserve: warning: ${note}\n`);
    process.stderr.write(
      `wrote ${path} (${result.width}x${result.height}, seed ${result.seed}, ${result.steps} ${result.sampler} steps, ` +
        `${(report.timings.generateMs / 1000).toFixed(2)} s on ${model.device})\n`,
    );
  }
  return 0;
}
