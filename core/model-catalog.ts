import { DitserveError } from './errors.ts';
import { readModelConfig, type ModelConfig } from '../gpu-worker/src/sampler/model-config.ts';
import { PromptTokenizer } from '../gpu-worker/src/sampler/tokenizer.ts';
import { LIMITS } from '../gpu-worker/src/sampler/request.ts';
import { SAMPLER_NAMES } from '../gpu-worker/src/sampler/schedulers/registry.ts';

export class UnknownModelError extends DitserveError {
  readonly code = 'model_not_found';
}

/** Most images one request may ask for (as OpenAI's n for its larger models, and Replicate's). */
export const MAX_IMAGES_PER_REQUEST = 4;

export interface ModelLimits {
  readonly minSteps: number;
  readonly maxSteps: number;
  readonly maxGuidanceScale: number;
  readonly maxPromptChars: number;
  /** Words and punctuation the text encoder sees, [BOS]/[EOS] excluded. */
  readonly maxPromptTokens: number;
  readonly maxImages: number;
}

/** What a client can ask of a model, read from its manifest; no ONNX is loaded for this. */
export interface ModelInfo {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly dir: string;
  readonly defaults: ModelConfig['manifest']['defaults'];
  /** Trained sizes, [width, height]; requests must pick one (quality falls off elsewhere). */
  readonly sizes: readonly (readonly [number, number])[];
  /** "3:2" → [192, 128]: the trained size of each aspect ratio. */
  readonly aspectRatios: Readonly<Record<string, readonly [number, number]>>;
  readonly samplers: readonly string[];
  readonly limits: ModelLimits;
  readonly vocabulary: Readonly<Record<string, readonly string[]>>;
  /** Token count and out-of-vocabulary words of a prompt, as the model's tokenizer sees it. */
  countTokens(text: string): { tokens: number; unknownWords: readonly string[] };
}

export interface ModelCatalog {
  readonly defaultModel: string;
  list(): readonly ModelInfo[];
  /** UnknownModelError names the models that exist. */
  get(id: string): ModelInfo;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function aspectRatioOf(width: number, height: number): string {
  const g = gcd(width, height);
  return `${width / g}:${height / g}`;
}

export function modelInfoFrom(config: ModelConfig): ModelInfo {
  const tokenizer = new PromptTokenizer(config.tokenizerJson, config.tokenizerConfig);
  const m = config.manifest;
  const sizes = m.sizes.length > 0 ? m.sizes : [[m.defaults.width, m.defaults.height] as const];
  return {
    id: m.name,
    version: m.version,
    description: m.description,
    dir: config.dir,
    defaults: m.defaults,
    sizes,
    aspectRatios: Object.fromEntries(sizes.map(([w, h]) => [aspectRatioOf(w, h), [w, h]])),
    samplers: SAMPLER_NAMES,
    limits: {
      minSteps: 1,
      maxSteps: Math.min(LIMITS.maxSteps, 100),
      maxGuidanceScale: LIMITS.maxGuidanceScale,
      maxPromptChars: LIMITS.maxPromptChars,
      maxPromptTokens: tokenizer.maxLength - 2,
      maxImages: MAX_IMAGES_PER_REQUEST,
    },
    vocabulary: m.vocabulary,
    countTokens(text: string) {
      // Without the fixed-length cut, minus [BOS] and [EOS]: what the prompt really needs.
      const { ids, unknownWords } = tokenizer.encodeUnpadded(text);
      return { tokens: Math.max(0, ids.length - 2), unknownWords };
    },
  };
}

/** A catalog over model folders; the first is the default unless one is named. */
export class StaticModelCatalog implements ModelCatalog {
  readonly defaultModel: string;
  readonly #models: ReadonlyMap<string, ModelInfo>;

  constructor(models: readonly ModelInfo[], defaultModel?: string) {
    const first = models[0];
    if (!first) throw new UnknownModelError('no models to serve');
    this.#models = new Map(models.map((m) => [m.id, m]));
    this.defaultModel = defaultModel ?? first.id;
    this.get(this.defaultModel);
  }

  list(): readonly ModelInfo[] {
    return [...this.#models.values()];
  }

  get(id: string): ModelInfo {
    const model = this.#models.get(id);
    if (!model) {
      throw new UnknownModelError(
        `unknown model "${id}"; available: ${[...this.#models.keys()].join(', ')}`,
      );
    }
    return model;
  }
}

/** Loads every model folder given (or every subfolder of a models root holding model_index.json). */
export async function loadModelCatalog(
  dirs: readonly string[],
  defaultModel?: string,
): Promise<StaticModelCatalog> {
  const infos = await Promise.all(dirs.map(async (d) => modelInfoFrom(await readModelConfig(d))));
  return new StaticModelCatalog(infos, defaultModel);
}
