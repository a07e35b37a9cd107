import { UsageError } from '../../core/config.ts';
import type { GenerateParams, Generation } from '../../sdk/client/index.ts';
import type { GenerateArgs } from './generate-args.ts';
import { outputPath, writeImage } from './generate-command.ts';
import { printReport, type WrittenImage } from './generate-report.ts';
import { openFiles } from './open-files.ts';
import { ProgressBar } from './progress-bar.ts';
import { clientFor } from './remote-client.ts';

/** Fetches one output; signed file URLs need no key, but a relative one is the API's own. */
async function download(baseUrl: string, url: string): Promise<Uint8Array> {
  const response = await fetch(new URL(url, baseUrl));
  if (!response.ok) throw new Error(`downloading ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * `ditserve generate --base-url …`: the request goes to a running ditserve (which checks it,
 * so a refusal carries the API's own field and code), progress follows its events, and the
 * outputs are downloaded into --out-dir.
 */
export async function generateRemote(args: GenerateArgs): Promise<number> {
  if (args.quality !== undefined) {
    throw new UsageError('--quality applies to images made here; the API encodes at its own');
  }
  const baseUrl = args.baseUrl ?? '';
  const client = clientFor({ 'base-url': baseUrl, 'api-key': args.apiKey });
  const bar = new ProgressBar(process.stderr);
  const started = performance.now();
  let generation: Generation;
  try {
    generation = await client.generate(args.body as GenerateParams, {
      onProgress: ({ generation: g }) => {
        if (g.progress) bar.update(g.progress.step, g.progress.total, performance.now() - started);
      },
    });
  } finally {
    bar.clear();
  }
  const generated = performance.now();
  const images: WrittenImage[] = [];
  for (const output of generation.outputs) {
    const bytes = await download(baseUrl, output.url);
    const path = outputPath(args, output.seed);
    await writeImage(path, bytes);
    images.push({ path, bytes: bytes.length, seed: output.seed });
  }
  const [first] = images;
  if (!first) throw new Error(`generation ${generation.id} succeeded without outputs`);
  const { input } = generation;
  const [name = generation.model, version = ''] = generation.model.split('@');
  printReport(
    args,
    {
      ...first,
      images,
      format: input.output_format,
      prompt: input.prompt,
      negativePrompt: input.negative_prompt,
      steps: input.steps,
      guidanceScale: input.guidance_scale,
      sampler: input.sampler,
      width: input.width,
      height: input.height,
      model: { name, version },
      device: 'remote',
      deviceFallback: null,
      warnings: generation.warnings ?? [],
      timings: {
        generateMs: Math.round(generated - started),
        downloadMs: Math.round(performance.now() - generated),
        ...(generation.timings.queue_ms === undefined
          ? {}
          : { queueMs: generation.timings.queue_ms }),
        ...(generation.timings.inference_ms === undefined
          ? {}
          : { inferenceMs: generation.timings.inference_ms }),
      },
      id: generation.id,
    },
    baseUrl,
  );
  if (args.open) openFiles(images.map((i) => i.path));
  return 0;
}
