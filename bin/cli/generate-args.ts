import { SETTINGS } from '../../core/settings.ts';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEVICE_OPTIONS,
  IMAGE_FORMATS,
  SAMPLER_NAMES,
} from '../../gpu-worker/src/sampler/index.ts';
import type { DeviceOption, ImageFormat, SamplerName } from '../../gpu-worker/src/sampler/index.ts';
import { UsageError } from '../../core/config.ts';

export const DEFAULT_MODEL_DIR = SETTINGS.modelDirs.default;

export const GENERATE_HELP = `Usage: ditserve generate <prompt> [options]

Generates one image from a text prompt and writes it to a file.

Options:
  -o, --output <file>      where to write (default: ditserve-<seed>.<format>)
  -m, --model <dir>        model folder (default: ${DEFAULT_MODEL_DIR})
  -n, --negative <text>    negative prompt (default: none)
  -s, --seed <int>         seed in [0, 2^53-1] (default: random, printed)
      --steps <int>        denoising steps (default: the model's)
  -g, --guidance <num>     classifier-free guidance scale; 1 turns it off (default: the model's)
      --size <WxH>         image size, e.g. 192x128 (or --width/--height; default: the model's)
      --width <int>
      --height <int>
      --sampler <name>     ${SAMPLER_NAMES.join(' | ')} (default: the model's)
      --device <name>      ${DEVICE_OPTIONS.join(' | ')} (default: auto = CUDA if it works, else CPU)
      --threads <int>      CPU threads per model component (default: all available cores)
  -f, --format <name>      ${IMAGE_FORMATS.join(' | ')} (default: from the --output extension, else png)
      --quality <1-100>    WebP/JPEG quality (default: 90)
      --json               print a JSON result on stdout (path, seed, timings, …)
  -h, --help               show this help
`;

export interface GenerateArgs {
  readonly prompt: string;
  readonly output: string | undefined;
  readonly modelDir: string;
  readonly negativePrompt: string | undefined;
  readonly seed: number | undefined;
  readonly steps: number | undefined;
  readonly guidanceScale: number | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly sampler: SamplerName | undefined;
  readonly device: DeviceOption;
  readonly threads: number | undefined;
  readonly format: ImageFormat;
  readonly quality: number | undefined;
  readonly json: boolean;
  readonly help: boolean;
}

const EXTENSIONS: Readonly<Record<string, ImageFormat>> = {
  '.png': 'png',
  '.webp': 'webp',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
};

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

function integer(option: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${option} must be an integer ≥ ${min}, got "${value}"`);
  }
  return n;
}

function decimal(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${option} must be a number, got "${value}"`);
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
function resolveFormat(format: string | undefined, output: string | undefined): ImageFormat {
  const fromFlag = oneOf('format', format, IMAGE_FORMATS);
  const ext = output === undefined ? '' : extname(output).toLowerCase();
  const fromExt = EXTENSIONS[ext];
  if (fromFlag && fromExt && fromFlag !== fromExt) {
    throw new UsageError(`--format ${fromFlag} does not match the output file extension "${ext}"`);
  }
  if (!fromFlag && !fromExt && ext !== '') {
    throw new UsageError(
      `cannot tell the image format from "${ext}": use .png, .webp, .jpg or pass --format`,
    );
  }
  return fromFlag ?? fromExt ?? 'png';
}

/** Parses the arguments after `generate`; throws UsageError for anything malformed. */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: 'string', short: 'o' },
        model: { type: 'string', short: 'm' },
        negative: { type: 'string', short: 'n' },
        seed: { type: 'string', short: 's' },
        steps: { type: 'string' },
        guidance: { type: 'string', short: 'g' },
        size: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        sampler: { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        format: { type: 'string', short: 'f' },
        quality: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    // parseArgs' messages are already clear ("Unknown option '--foo'"); keep them, drop the stack.
    throw new UsageError((error as Error).message, { cause: error });
  }
  const { values: v, positionals } = parsed;
  const help = v.help;
  // An unquoted prompt arrives as several words: join them rather than failing.
  const prompt = positionals.join(' ');
  if (!help && positionals.length === 0) {
    throw new UsageError('missing prompt: ditserve generate "a red circle left of a blue square"');
  }
  const size = parseSize(v.size);
  if (size && (v.width !== undefined || v.height !== undefined)) {
    throw new UsageError('use either --size or --width/--height, not both');
  }
  const quality = integer('quality', v.quality, 1);
  if (quality !== undefined && quality > 100) {
    throw new UsageError(`--quality must be between 1 and 100, got ${quality}`);
  }
  return {
    prompt,
    output: v.output,
    modelDir: v.model ?? DEFAULT_MODEL_DIR,
    negativePrompt: v.negative,
    seed: integer('seed', v.seed),
    steps: integer('steps', v.steps, 1),
    guidanceScale: decimal('guidance', v.guidance),
    width: size?.[0] ?? integer('width', v.width, 1),
    height: size?.[1] ?? integer('height', v.height, 1),
    sampler: oneOf('sampler', v.sampler, SAMPLER_NAMES),
    device: oneOf('device', v.device, DEVICE_OPTIONS) ?? 'auto',
    threads: integer('threads', v.threads, 1),
    format: resolveFormat(v.format, v.output),
    quality,
    json: v.json,
    help,
  };
}
