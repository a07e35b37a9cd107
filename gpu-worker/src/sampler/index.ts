/** The sampler's public API: load a model folder, generate images, encode them. */
export { loadModel, type DitModel, type LoadOptions } from './model.ts';
export { readModelConfig, type ModelConfig, type ModelManifest } from './model-config.ts';
export { DEVICE_OPTIONS, resolveRunner, type Device, type DeviceOption } from './execution.ts';
export {
  generate,
  type GenerateOptions,
  type GenerationResult,
  type ProgressCallback,
} from './generate.ts';
export {
  LIMITS,
  perImageRequests,
  type GenerationRequest,
  type ResolvedRequest,
} from './request.ts';
export {
  encodeImage,
  ensureEncoder,
  IMAGE_FORMATS,
  metadataFor,
  MIME_TYPES,
  type ImageFormat,
  type ImageProvenance,
} from './encode.ts';
export { readPngText } from './png.ts';
export { SAMPLER_NAMES, type SamplerName } from './schedulers/registry.ts';
export { MAX_SEED } from './noise.ts';
export * from './errors.ts';
