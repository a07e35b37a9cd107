import { DitserveError } from './errors.ts';

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

/** A model's defaults for what a request leaves out (its manifest's `ditserve.defaults`). */
export interface ModelDefaults {
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
  readonly sampler: string;
}

/** What a model makes; a model is a video model exactly when its ModelInfo has `video`. */
export type Modality = 'image' | 'video';

/**
 * What a video model accepts (its manifest's `ditserve.video`, with `defaults.frames`). Frames
 * are counted per clip; `fps` is the rate the model was trained at, the only one it plays at.
 */
export interface VideoCapabilities {
  readonly frames: { readonly min: number; readonly max: number; readonly multipleOf: number };
  readonly defaultFrames: number;
  readonly fps: number;
  /** Whether an init image may be given as frame 0 (`init_image`). */
  readonly imageToVideo: boolean;
  /** Whether a clip may continue a previous one (`extend`). */
  readonly extend: boolean;
  /** Frames of the previous clip given to an extension (its last ones), not returned again. */
  readonly extendContextFrames: number;
}

/**
 * The port through which the API and the CLI see models: what a client can ask of each, read
 * from its manifest with no ONNX loaded. Built by the model contract
 * (gpu-worker/src/model-contract), which is the only part that knows the model folder format.
 */
export interface ModelInfo {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly dir: string;
  readonly defaults: ModelDefaults;
  /** Trained sizes, [width, height]; requests must pick one (quality falls off elsewhere). */
  readonly sizes: readonly (readonly [number, number])[];
  /** "3:2" → [192, 128]: the trained size of each aspect ratio. */
  readonly aspectRatios: Readonly<Record<string, readonly [number, number]>>;
  readonly samplers: readonly string[];
  readonly limits: ModelLimits;
  readonly vocabulary: Readonly<Record<string, readonly string[]>>;
  /** Present for video models (manifest `modality: "video"`); image models have none. */
  readonly video?: VideoCapabilities | undefined;
  /** Token count and out-of-vocabulary words of a prompt, as the model's tokenizer sees it. */
  countTokens(text: string): { tokens: number; unknownWords: readonly string[] };
}

export interface ModelCatalog {
  readonly defaultModel: string;
  list(): readonly ModelInfo[];
  /** UnknownModelError names the models that exist. */
  get(id: string): ModelInfo;
}

export function modalityOf(model: Pick<ModelInfo, 'video'>): Modality {
  return model.video ? 'video' : 'image';
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function aspectRatioOf(width: number, height: number): string {
  const g = gcd(width, height);
  return `${width / g}:${height / g}`;
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
