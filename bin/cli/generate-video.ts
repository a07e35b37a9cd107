import { readFile } from 'node:fs/promises';
import { read, readOptional, UsageError } from '../../core/config.ts';
import { StaticModelCatalog } from '../../core/model-catalog.ts';
import { SETTINGS } from '../../core/settings.ts';
import { parseGeneration } from '../../functions/api/services/parse-generation.ts';
import { modelInfoFrom } from '../../gpu-worker/src/model-contract/index.ts';
import {
  clipMetadata,
  encodeAnimatedWebp,
  encodeMp4,
  h264Encoder,
} from '../../gpu-worker/src/media/index.ts';
import {
  EncoderUnavailableError,
  perImageRequests,
  resolveRunner,
  type ModelConfig,
} from '../../gpu-worker/src/sampler/index.ts';
import {
  decodeInitImage,
  generateVideos,
  loadVideoModel,
  type RgbImage,
  type VideoClipRequest,
} from '../../gpu-worker/src/sampler/video/index.ts';
import type { GenerateArgs } from './generate-args.ts';
import { outputPath, writeImage } from './generate-command.ts';
import {
  localTimings,
  printRunReport,
  sampleHere,
  type RunReport,
  type WrittenImage,
} from './generate-report.ts';
import { openFiles } from './open-files.ts';

type ClipFileFormat = 'mp4' | 'webp';

/** One written clip in `ditserve generate --json`. */
export interface WrittenClip extends WrittenImage {
  readonly frames: number;
}

/** What `ditserve generate --json` prints for a video model. */
export interface VideoReport extends RunReport {
  readonly clips: readonly WrittenClip[];
  readonly format: ClipFileFormat;
  readonly frames: number;
  readonly fps: number;
  readonly mode: string;
  readonly model: { readonly name: string; readonly version: string; readonly dir: string };
}

/**
 * The clip's file format: .mp4 or .webp (--output or --format), else MP4 where ffmpeg can write
 * H.264 and WebP where it cannot. An MP4 asked for without an encoder fails before any work.
 */
async function clipFormat(args: GenerateArgs, ffmpeg: string): Promise<ClipFileFormat> {
  const encoder = await h264Encoder(ffmpeg);
  if (!args.formatChosen) return encoder.available ? 'mp4' : 'webp';
  if (args.format === 'mp4') {
    if (!encoder.available) {
      throw new EncoderUnavailableError(
        `cannot write MP4 here: ${encoder.note} Write an animated WebP instead (-o <name>.webp).`,
      );
    }
    return 'mp4';
  }
  if (args.format === 'webp') return 'webp';
  throw new UsageError(
    `${args.format} is an image format: a video model writes .mp4 or .webp (animated)`,
  );
}

async function readInitImage(path: string | undefined): Promise<RgbImage | undefined> {
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`--init-image: cannot read ${path} (${(error as Error).message})`, {
      cause: error,
    });
  }
  return decodeInitImage(bytes, `--init-image ${path}`);
}

/**
 * The request checked as the API checks a video request (frames, fps, init_image allowed, …):
 * the command line's fields without the image-only output_format, plus --frames, and
 * init_image only as a presence (the file's bytes are read here, not sent anywhere).
 */
function checkedParams(args: GenerateArgs, config: ModelConfig) {
  const body: Record<string, unknown> = {
    ...args.body,
    ...(args.frames === undefined ? {} : { frames: args.frames }),
    ...(args.initImage === undefined ? {} : { init_image: args.initImage }),
  };
  delete body.output_format;
  return parseGeneration(body, new StaticModelCatalog([modelInfoFrom(config)]));
}

/** `ditserve generate` with a video model on this machine: clips as MP4 or animated WebP. */
export async function generateVideoHere(
  args: GenerateArgs,
  config: ModelConfig,
  t0: number,
): Promise<number> {
  const ffmpeg = read(process.env, SETTINGS.ffmpeg);
  const format = await clipFormat(args, ffmpeg); // before minutes of work, not after
  const { params, warnings } = checkedParams(args, config);
  const initImage = await readInitImage(args.initImage);
  const frames = params.modality === 'video' ? params.frames : undefined;
  // Clip i uses seed + i, as image i does.
  const requests: VideoClipRequest[] = perImageRequests(params).map((request) => ({
    ...request,
    frames,
    initImage,
  }));
  const model = await loadVideoModel(config.dir, {
    device: args.device,
    runner: resolveRunner(args.runner, args.device),
    opsDir: readOptional(process.env, SETTINGS.opsDir),
    ...(args.threads === undefined ? {} : { threads: args.threads }),
  });
  const t1 = performance.now();
  const results = await sampleHere(model, (onProgress) =>
    generateVideos(model, requests, { onProgress }),
  );
  const t2 = performance.now();
  const { name, version } = config.manifest;
  const clips: WrittenClip[] = [];
  for (const result of results) {
    const metadata = clipMetadata(result, `${name}@${version}`);
    const clip = { width: result.width, height: result.height, fps: result.fps, metadata };
    const file =
      format === 'mp4'
        ? await encodeMp4(result.frames, { ...clip, ffmpeg })
        : await encodeAnimatedWebp(result.frames, {
            ...clip,
            ...(args.quality === undefined ? {} : { quality: args.quality }),
          });
    const path = outputPath(args, result.seed, format);
    await writeImage(path, file);
    clips.push({ path, bytes: file.length, seed: result.seed, frames: result.frames.length });
  }
  const t3 = performance.now();
  const [first] = results;
  const [written] = clips;
  if (!first || !written) throw new Error('generateVideos() returned no clip');
  const r = first.request;
  const report: VideoReport = {
    ...written,
    clips,
    format,
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
    steps: r.steps,
    guidanceScale: r.guidanceScale,
    sampler: r.sampler,
    width: first.width,
    height: first.height,
    frames: first.frames.length,
    fps: first.fps,
    mode: r.mode,
    model: { name, version, dir: config.dir },
    device: model.device,
    deviceFallback: model.fallbackReason,
    warnings,
    timings: localTimings(t0, t1, t2, t3),
  };
  printVideoReport(args, report);
  if (args.open) openFiles(clips.map((c) => c.path));
  return 0;
}

function printVideoReport(args: GenerateArgs, report: VideoReport): void {
  printRunReport(
    args,
    report,
    report.clips.map(
      (clip) =>
        `${clip.path} (${report.width}x${report.height}, ${clip.frames} frames at ${report.fps} fps, ` +
        `seed ${clip.seed}, ${report.steps} ${report.sampler} steps)`,
    ),
    `${report.clips.length} clip(s)`,
    report.device,
  );
}
