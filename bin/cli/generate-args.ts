import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/config.ts';
import { DEVICE_OPTIONS, IMAGE_FORMATS } from '../../gpu-worker/src/sampler/index.ts';
import type { DeviceOption, ImageFormat } from '../../gpu-worker/src/sampler/index.ts';
import { SAMPLER_NAMES } from '../../gpu-worker/src/model-contract/index.ts';
import { MAX_IMAGES_PER_REQUEST } from '../../core/model-catalog.ts';
import { DEFAULT_MODEL_DIR } from './package-paths.ts';
import { REMOTE_OPTIONS, REMOTE_HELP } from './remote-options.ts';

/** What a file may be: an image, or (video models) an MP4; WebP is both. */
export type OutputFormat = ImageFormat | 'mp4';
export const OUTPUT_FORMATS: readonly OutputFormat[] = [...IMAGE_FORMATS, 'mp4'];

export const GENERATE_HELP = `Usage: ditserve generate <prompt> [options]

Generates images from a text prompt and writes them to files: on this machine, or on a running
ditserve (--base-url). The request is checked exactly as the API checks it. With a video model
it writes clips: MP4 (H.264, needs ffmpeg with libx264) or animated WebP.

Options:
  -o, --output <file>      where to write one image (default: <out-dir>/ditserve-<seed>.<format>)
      --out-dir <dir>      folder for the images (default: the current folder)
      --n <int>            number of images, 1–${MAX_IMAGES_PER_REQUEST}; image i uses seed + i (default: 1)
  -m, --model <dir|id>     model folder, or with --base-url a model id (default: the shipped model)
      --negative <text>    negative prompt (default: none)
  -s, --seed <int>         seed in [0, 2^53-1] (default: random, printed)
      --steps <int>        denoising steps (default: the model's)
  -g, --guidance <num>     classifier-free guidance scale; 1 turns it off (default: the model's)
      --size <WxH>         image size, e.g. 192x128 (or --width/--height; default: the model's)
      --width <int>
      --height <int>
      --sampler <name>     ${SAMPLER_NAMES.join(' | ')} (default: the model's)
      --device <name>      ${DEVICE_OPTIONS.join(' | ')} (default: auto = CUDA if it works, else CPU)
      --threads <int>      CPU threads per model component (default: all available cores)
      --runner <name>      auto | stock | native: onnxruntime-node, or ditserve's C API binding with
                           CUDA graphs; auto = native on CUDA, stock on the CPU (default: auto)
      --frames <int>       video models: frames per clip (default: the model's)
      --init-image <file>  video models: the first frame (PNG, JPEG or WebP; image-to-video)
  -f, --format <name>      ${OUTPUT_FORMATS.join(' | ')} (default: from the --output extension, else
                           png, or for a video model mp4 where ffmpeg has libx264, else webp)
      --quality <1-100>    WebP/JPEG quality, local only (default: 90)
      --open               open the image(s) with the desktop's viewer when done
      --json               print a JSON result on stdout (paths, seeds, timings, …)
${REMOTE_HELP}
  -h, --help               show this help
`;

/** What only the command line decides: where files go and how the model runs here. */
export interface GenerateArgs {
  /** The request in the API's own field names, not yet checked: parseGeneration checks it. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly output: string | undefined;
  readonly outDir: string;
  readonly model: string | undefined;
  readonly device: DeviceOption;
  readonly threads: number | undefined;
  readonly runner: 'auto' | 'stock' | 'native';
  readonly format: OutputFormat;
  /** Whether --format or the --output extension chose the format (not the png default). */
  readonly formatChosen: boolean;
  /** Video models: --frames as given (checked by the sampler). */
  readonly frames: number | string | undefined;
  /** Video models: --init-image, a path. */
  readonly initImage: string | undefined;
  readonly quality: number | undefined;
  readonly open: boolean;
  readonly json: boolean;
  readonly help: boolean;
  readonly baseUrl: string | undefined;
  readonly apiKey: string | undefined;
}

/**
 * The flag that sets each request field, so that an error about a field names the flag a CLI
 * user typed; `--json` reports the field itself, as the API does.
 */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  prompt: '<prompt>',
  negative_prompt: '--negative',
  model: '--model',
  width: '--width (or --size)',
  height: '--height (or --size)',
  steps: '--steps',
  guidance_scale: '--guidance',
  sampler: '--sampler',
  seed: '--seed',
  num_images: '--n',
  output_format: '--format',
  frames: '--frames',
  init_image: '--init-image',
};

const EXTENSIONS: Readonly<Record<string, OutputFormat>> = {
  '.mp4': 'mp4',
  '.png': 'png',
  '.webp': 'webp',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
};

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number when the text is one; otherwise the text itself, so that the request schema (not
 * the CLI) says what the field accepts, in the same words as the API.
 */
function numberish(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return NUMBER.test(value.trim()) ? Number(value) : value;
}

function oneOf<T extends string>(
  option: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${option} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** A setting of this machine (not of the request): a positive integer or a usage error. */
function positiveInt(option: string, value: string | undefined, max = Infinity) {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    const range = max === Infinity ? '≥ 1' : `between 1 and ${max}`;
    throw new UsageError(`--${option} must be an integer ${range}, got "${value}"`);
  }
  return n;
}

function parseSize(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)x(\d+)$/i.exec(value);
  if (!match)
    throw new UsageError(`--size must look like 192x128 (width x height), got "${value}"`);
  return [Number(match[1]), Number(match[2])];
}

/** Output format: --format if given, else the --output extension, else png; they must agree. */
function resolveFormat(format: string | undefined, output: string | undefined): OutputFormat {
  const fromFlag = oneOf('format', format, OUTPUT_FORMATS);
  const ext = output === undefined ? '' : extname(output).toLowerCase();
  const fromExt = EXTENSIONS[ext];
  if (fromFlag && fromExt && fromFlag !== fromExt) {
    throw new UsageError(`--format ${fromFlag} does not match the output file extension "${ext}"`);
  }
  if (!fromFlag && !fromExt && ext !== '') {
    throw new UsageError(
      `cannot tell the image format from "${ext}": use .png, .webp, .jpg (.mp4 for a video model) or pass --format`,
    );
  }
  return fromFlag ?? fromExt ?? 'png';
}

/** Drops absent fields, so that the body holds only what the user set (as a JSON body would). */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** Parses the arguments after `generate`; throws UsageError for anything malformed. */
export function parseGenerateArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): GenerateArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        'out-dir': { type: 'string' },
        n: { type: 'string' },
        model: { type: 'string', short: 'm' },
        negative: { type: 'string' },
        seed: { type: 'string', short: 's' },
        steps: { type: 'string' },
        guidance: { type: 'string', short: 'g' },
        size: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        sampler: { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        runner: { type: 'string' },
        format: { type: 'string', short: 'f' },
        quality: { type: 'string' },
        frames: { type: 'string' },
        'init-image': { type: 'string' },
        open: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...REMOTE_OPTIONS,
      },
    });
  } catch (error) {
    // parseArgs' messages are already clear ("Unknown option '--foo'"); keep them, drop the stack.
    throw new UsageError((error as Error).message, { cause: error });
  }
  const { values: v, positionals } = parsed;
  const help = v.help;
  if (!help && positionals.length === 0) {
    throw new UsageError('missing prompt: ditserve generate "a red circle left of a blue square"');
  }
  const size = parseSize(v.size);
  if (size && (v.width !== undefined || v.height !== undefined)) {
    throw new UsageError('use either --size or --width/--height, not both');
  }
  const n = numberish(v.n);
  if (v.output !== undefined && typeof n === 'number' && n > 1) {
    throw new UsageError('--output names one file: with --n above 1 use --out-dir');
  }
  const format = resolveFormat(v.format, v.output);
  const baseUrl = v['base-url'] ?? env.DITSERVE_BASE_URL;
  return {
    body: present({
      // An unquoted prompt arrives as several words: join them rather than failing.
      prompt: positionals.join(' '),
      negative_prompt: v.negative,
      model: baseUrl === undefined ? undefined : v.model,
      width: size?.[0] ?? numberish(v.width),
      height: size?.[1] ?? numberish(v.height),
      steps: numberish(v.steps),
      guidance_scale: numberish(v.guidance),
      sampler: v.sampler,
      seed: numberish(v.seed),
      num_images: n,
      // The API's output_format names image formats; a clip's files are MP4 and WebP anyway.
      output_format: format === 'mp4' ? undefined : format,
    }),
    output: v.output,
    outDir: v['out-dir'] ?? '.',
    model: v.model,
    device: oneOf('device', v.device, DEVICE_OPTIONS) ?? 'auto',
    threads: positiveInt('threads', v.threads),
    runner: oneOf('runner', v.runner, ['auto', 'stock', 'native'] as const) ?? 'auto',
    format,
    formatChosen:
      v.format !== undefined || EXTENSIONS[extname(v.output ?? '').toLowerCase()] !== undefined,
    frames: numberish(v.frames),
    initImage: v['init-image'],
    quality: positiveInt('quality', v.quality, 100),
    open: v.open,
    json: v.json,
    help,
    baseUrl,
    apiKey: v['api-key'] ?? env.DITSERVE_API_KEY,
  };
}

export { DEFAULT_MODEL_DIR };
