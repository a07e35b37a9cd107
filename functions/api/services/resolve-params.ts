import { randomInt } from 'node:crypto';
import type { GenerationParams } from '../../../core/generation.ts';
import type { ModelCatalog, ModelInfo } from '../../../core/model-catalog.ts';
import { MAX_SEED } from '../../../gpu-worker/src/model-contract/index.ts';
import { ValidationError } from '../errors.ts';
import type { GenerationCreateBody } from '../schemas/generation.ts';
import { checkPrompt } from './prompt-text.ts';
import { checkModalityFields, resolveVideo } from './resolve-video.ts';

const sizeList = (model: ModelInfo) => model.sizes.map(([w, h]) => `${w}x${h}`).join(', ');

function pickModel(models: ModelCatalog, id: string | undefined): ModelInfo {
  const wanted = id ?? models.defaultModel;
  const model = models.list().find((m) => m.id === wanted);
  if (!model) {
    throw ValidationError.field(
      'model',
      `unknown model "${wanted}"`,
      `one of ${models
        .list()
        .map((m) => m.id)
        .join(', ')}`,
    );
  }
  return model;
}

function pickSize(body: GenerationCreateBody, model: ModelInfo): readonly [number, number] {
  if (body.aspect_ratio !== undefined) {
    if (body.width !== undefined || body.height !== undefined) {
      throw ValidationError.field(
        'aspect_ratio',
        'cannot be combined with width/height',
        'either aspect_ratio or width and height',
      );
    }
    const size = model.aspectRatios[body.aspect_ratio];
    if (!size) {
      throw ValidationError.field(
        'aspect_ratio',
        `model ${model.id} has no ${body.aspect_ratio} size`,
        `one of ${Object.keys(model.aspectRatios).join(', ')}`,
      );
    }
    return size;
  }
  if ((body.width === undefined) !== (body.height === undefined)) {
    const missing = body.width === undefined ? 'width' : 'height';
    throw ValidationError.field(
      missing,
      'is required when the other side is given',
      `one of ${sizeList(model)}`,
    );
  }
  const width = body.width ?? model.defaults.width;
  const height = body.height ?? model.defaults.height;
  if (!model.sizes.some(([w, h]) => w === width && h === height)) {
    throw ValidationError.field(
      'width',
      `${width}x${height} is not a size model ${model.id} was trained for`,
      `one of ${sizeList(model)}`,
    );
  }
  return [width, height];
}

/** The job's parameters from a validated body: model limits checked, every default filled. */
export function resolveParams(
  body: GenerationCreateBody,
  models: ModelCatalog,
): { params: GenerationParams; model: ModelInfo; warnings: string[] } {
  const model = pickModel(models, body.model);
  checkModalityFields(body, model);
  const video = model.video ? resolveVideo(body, model, model.video) : undefined;
  const prompt = checkPrompt(body.prompt, 'prompt', model, true);
  const negative = checkPrompt(body.negative_prompt ?? '', 'negative_prompt', model, false);
  const [width, height] = pickSize(body, model);
  const steps = body.steps ?? model.defaults.steps;
  if (steps > model.limits.maxSteps) {
    throw ValidationError.field(
      'steps',
      `is ${steps}`,
      `${model.limits.minSteps}–${model.limits.maxSteps} for model ${model.id}`,
    );
  }
  const numImages = body.num_images ?? 1;
  if (body.seed !== undefined && body.seed + numImages - 1 > MAX_SEED) {
    throw ValidationError.field(
      'seed',
      'image n uses seed + n, which would pass the largest seed',
      `0–${MAX_SEED - numImages + 1} with num_images ${numImages}`,
    );
  }
  const unknown = [...new Set([...prompt.unknownWords, ...negative.unknownWords])];
  const warnings = unknown.length
    ? [`model ${model.id} does not know these words, which it will ignore: ${unknown.join(', ')}`]
    : [];
  const common = {
    prompt: prompt.text,
    negativePrompt: negative.text,
    model: model.id,
    width,
    height,
    steps,
    guidanceScale: body.guidance_scale ?? model.defaults.guidanceScale,
    sampler: body.sampler ?? model.defaults.sampler,
    // 2^48 keeps seed + n (one per image) far below 2^53 − 1.
    seed: body.seed ?? randomInt(0, 2 ** 48 - 1),
    numImages,
    outputFormat: body.output_format ?? 'png',
  };
  // The init image and the clip to extend are checked (and stored) by submit, which can read.
  const params: GenerationParams = video ? { ...common, modality: 'video', ...video } : common;
  return { model, warnings, params };
}
