/**
 * The model contract without onnxruntime: what the API (Lambda), the CLI and the worker need to
 * know of a model folder — its manifest and configs, its tokenizer, request limits, the seed
 * range, sampler and device names — and the ModelCatalog built from them. Only the sampler
 * (gpu-worker/src/sampler) runs models; lint keeps everything else on this entry.
 */
export { loadModelCatalog, modelInfoFrom } from './catalog.ts';
export { DEVICE_OPTIONS, type Device, type DeviceOption } from './devices.ts';
export {
  readModelConfig,
  type ModelConfig,
  type ModelDefaults,
  type ModelManifest,
} from '../sampler/model-config.ts';
export { MAX_SEED } from '../sampler/noise.ts';
export {
  describeFrameRange,
  isAllowedFrameCount,
  MODALITIES,
  type FrameRange,
  type Modality,
  type VideoManifest,
} from './video-manifest.ts';
export { videoLimitsOf, type VideoLimits } from './video-limits.ts';
export { LIMITS } from '../sampler/request.ts';
export { SAMPLER_NAMES, type SamplerName } from '../sampler/schedulers/registry.ts';
export { PromptTokenizer } from '../sampler/tokenizer.ts';
export { ModelConfigError, ModelFileMissingError, ModelNotFoundError } from '../sampler/errors.ts';
