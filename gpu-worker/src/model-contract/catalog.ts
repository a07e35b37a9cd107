import {
  aspectRatioOf,
  MAX_IMAGES_PER_REQUEST,
  StaticModelCatalog,
  type ModelInfo,
} from '../../../core/model-catalog.ts';
import { readModelConfig, type ModelConfig } from '../sampler/model-config.ts';
import { LIMITS } from '../sampler/request.ts';
import { SAMPLER_NAMES } from '../sampler/schedulers/registry.ts';
import { PromptTokenizer } from '../sampler/tokenizer.ts';

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
    ...(m.video ? { video: m.video } : {}),
    countTokens(text: string) {
      // Without the fixed-length cut, minus [BOS] and [EOS]: what the prompt really needs.
      const { ids, unknownWords } = tokenizer.encodeUnpadded(text);
      return { tokens: Math.max(0, ids.length - 2), unknownWords };
    },
  };
}

/** Loads every model folder given (or every subfolder of a models root holding model_index.json). */
export async function loadModelCatalog(
  dirs: readonly string[],
  defaultModel?: string,
): Promise<StaticModelCatalog> {
  const infos = await Promise.all(dirs.map(async (d) => modelInfoFrom(await readModelConfig(d))));
  return new StaticModelCatalog(infos, defaultModel);
}
