import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  parseModality,
  parseVideoManifest,
  type Modality,
  type VideoManifest,
} from '../model-contract/video-manifest.ts';
import { ModelConfigError, ModelFileMissingError, ModelNotFoundError } from './errors.ts';
import { JsonFields, readJsonObject, type JsonObject } from './json-file.ts';
import {
  isSamplerName,
  SAMPLER_NAMES,
  samplerForClassName,
  type SamplerName,
} from './schedulers/registry.ts';
import type { SchedulerConfig } from './schedulers/types.ts';

/** ONNX components that the sampler runs; each is a subfolder named as in model_index.json. */
export type OnnxComponent = 'text_encoder' | 'transformer' | 'vae_decoder' | 'vae_encoder';

export interface ModelDefaults {
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
  readonly sampler: SamplerName;
}

/** The "ditserve" entry of model_index.json. */
export interface ModelManifest {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** "image" unless the manifest says "video" (then `video` holds its clip limits). */
  readonly modality: Modality;
  readonly video: VideoManifest | null;
  readonly defaults: ModelDefaults;
  /** [width, height] pairs the model was trained on. */
  readonly sizes: readonly (readonly [number, number])[];
  readonly vocabulary: Readonly<Record<string, readonly string[]>>;
  /** ONNX file name per device kind inside each component folder. */
  readonly variants: DeviceFiles;
  /**
   * The transformer's step graph per device kind (transformer + guidance + Euler update as one
   * graph; gpu-worker/training/ditserve_train/step_graph.py), or null: the sampler then steps
   * through the transformer graph alone.
   */
  readonly stepGraph: DeviceFiles | null;
  /**
   * The decode graph (un-scale + VAE decoder + uint8 pixels as one graph;
   * gpu-worker/training/ditserve_train/decode_graph.py) per device kind it is used on. Only CUDA
   * uses one: the CPU converts pixels on the host, exactly as the Python reference does.
   */
  readonly decodeGraph: Partial<DeviceFiles>;
  /**
   * The device kinds whose graphs (variants, step and decode graphs) use ditserve's custom-op
   * library (gpu-worker/ops, docs/custom-ops.md): sessions there register it (DITSERVE_OPS_DIR).
   */
  readonly customOps: readonly (keyof DeviceFiles)[];
}

/** An ONNX file name per device kind, inside a component folder. */
export interface DeviceFiles {
  readonly cpu: string;
  readonly cuda: string;
}

export interface TextEncoderConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly maxLength: number;
}

export interface TransformerConfig {
  readonly inChannels: number;
  readonly patchSize: number;
  readonly jointAttentionDim: number;
  readonly pooledProjectionDim: number;
}

export interface VaeDecoderConfig {
  readonly latentChannels: number;
  readonly downsampleFactor: number;
  readonly scalingFactor: number;
  readonly shiftFactor: number;
}

/** Everything the JSON files of a model folder say, checked for consistency; no ONNX loaded. */
export interface ModelConfig {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly scheduler: SchedulerConfig;
  readonly tokenizerJson: JsonObject;
  readonly tokenizerConfig: JsonObject;
  readonly textEncoder: TextEncoderConfig;
  readonly transformer: TransformerConfig;
  /** null for pixel-space models: the transformer's output is the image. */
  readonly vaeDecoder: VaeDecoderConfig | null;
  /** Folder of each ONNX component present. */
  readonly componentDirs: Readonly<Partial<Record<OnnxComponent, string>>>;
  /** Image pixels per latent cell (the VAE's downsample factor; 1 without a VAE). */
  readonly downsampleFactor: number;
  /** Width and height must be multiples of this (downsample factor × patch size). */
  readonly sizeMultiple: number;
}

const REQUIRED = ['scheduler', 'tokenizer', 'text_encoder', 'transformer'] as const;
const DEFAULT_VARIANTS = { cpu: 'model.onnx', cuda: 'model.fp16.onnx' } as const;

/** A component entry like ["ditserve", "MMDiT"]; [null, null] or a missing key means absent. */
function isPresent(index: JsonObject, name: string): boolean {
  const entry = index[name];
  return Array.isArray(entry) && entry.some((part) => part !== null);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function parseManifest(index: JsonFields): ModelManifest {
  const m = index.object('ditserve');
  const d = m.object('defaults');
  const sampler = d.string('sampler');
  if (!isSamplerName(sampler)) {
    throw new ModelConfigError(
      `${d.where}: "sampler" must be one of ${SAMPLER_NAMES.join(', ')}, got "${sampler}"`,
    );
  }
  const sizes = m.has('sizes') ? m.array('sizes') : [];
  const variants = m.has('variants') ? m.object('variants') : null;
  const step = m.has('step_graph') ? m.object('step_graph') : null;
  const decode = m.has('decode_graph') ? m.object('decode_graph') : null;
  const vocabulary = m.has('vocabulary') ? m.object('vocabulary').value : {};
  const modality = parseModality(m);
  return {
    name: m.string('name'),
    version: m.string('version'),
    description: typeof m.value.description === 'string' ? m.value.description : '',
    modality,
    video: modality === 'video' ? parseVideoManifest(m, d) : null,
    defaults: {
      steps: d.integer('steps'),
      guidanceScale: d.number('guidance_scale', { min: 0 }),
      width: d.integer('width'),
      height: d.integer('height'),
      sampler,
    },
    sizes: sizes.map((size) => {
      if (!Array.isArray(size) || size.length !== 2 || !size.every(Number.isInteger)) {
        throw new ModelConfigError(`${m.where}: "sizes" must hold [width, height] integer pairs`);
      }
      return [size[0] as number, size[1] as number] as const;
    }),
    vocabulary: Object.fromEntries(
      Object.entries(vocabulary).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.filter((w): w is string => typeof w === 'string') : [],
      ]),
    ),
    variants: {
      cpu: variants?.has('cpu') ? variants.string('cpu') : DEFAULT_VARIANTS.cpu,
      cuda: variants?.has('cuda') ? variants.string('cuda') : DEFAULT_VARIANTS.cuda,
    },
    stepGraph: step ? { cpu: step.string('cpu'), cuda: step.string('cuda') } : null,
    decodeGraph: decode?.has('cuda') ? { cuda: decode.string('cuda') } : {},
    customOps: parseCustomOps(m),
  };
}

function parseCustomOps(m: JsonFields): ModelManifest['customOps'] {
  if (!m.has('custom_ops')) return [];
  const devices = m.array('custom_ops');
  const known = Object.keys(DEFAULT_VARIANTS);
  if (!devices.every((d): d is keyof DeviceFiles => typeof d === 'string' && known.includes(d))) {
    throw new ModelConfigError(
      `${m.where}: "custom_ops" lists the device kinds whose graphs use ditserve's op library: some of ${known.join(', ')}`,
    );
  }
  return devices;
}

function parseScheduler(f: JsonFields): SchedulerConfig {
  const className = f.string('_class_name');
  if (samplerForClassName(className) === undefined) {
    throw new ModelConfigError(`${f.where}: unknown scheduler "_class_name" ${className}`);
  }
  return {
    className,
    numTrainTimesteps: f.integer('num_train_timesteps'),
    shift: f.positiveNumber('shift'),
  };
}

/**
 * A video model decodes its frames with vae_decoder and, to take given frames (an init image,
 * the end of a previous clip), encodes them with vae_encoder.
 */
function checkVideoComponents(
  indexPath: string,
  video: VideoManifest,
  hasDecoder: boolean,
  hasEncoder: boolean,
): void {
  if (!hasDecoder) {
    throw new ModelConfigError(`${indexPath}: a video model needs the component "vae_decoder"`);
  }
  if ((video.imageToVideo || video.extend) && !hasEncoder) {
    throw new ModelConfigError(
      `${indexPath}: video.image_to_video or video.extend needs the component "vae_encoder"`,
    );
  }
}

/** Throws a ModelConfigError naming both sides when two configs disagree. */
function expectEqual(what: string, a: [string, number], b: [string, number]): void {
  if (a[1] !== b[1]) {
    throw new ModelConfigError(
      `inconsistent model: ${what}: ${a[0]} = ${a[1]} but ${b[0]} = ${b[1]}`,
    );
  }
}

/**
 * Reads and cross-checks the JSON side of a model folder laid out as in docs/model-format.md.
 * Throws ModelNotFoundError, ModelFileMissingError or ModelConfigError.
 */
export async function readModelConfig(modelDir: string): Promise<ModelConfig> {
  const dir = resolve(modelDir);
  if (!(await isDirectory(dir))) {
    throw new ModelNotFoundError(`model folder not found: ${dir}`);
  }
  const indexPath = join(dir, 'model_index.json');
  const index = new JsonFields(await readJsonObject(indexPath), indexPath);
  for (const name of REQUIRED) {
    if (!isPresent(index.value, name)) {
      throw new ModelConfigError(`${indexPath}: the required component "${name}" is missing`);
    }
    if (!(await isDirectory(join(dir, name)))) {
      throw new ModelFileMissingError(`component folder missing: ${join(dir, name)}`);
    }
  }
  const hasVae = isPresent(index.value, 'vae_decoder');
  const hasEncoder = isPresent(index.value, 'vae_encoder');
  const manifest = parseManifest(index);
  if (manifest.video) checkVideoComponents(indexPath, manifest.video, hasVae, hasEncoder);
  if (hasEncoder && !(await isDirectory(join(dir, 'vae_encoder')))) {
    throw new ModelFileMissingError(`component folder missing: ${join(dir, 'vae_encoder')}`);
  }

  const read = async (path: string) =>
    new JsonFields(await readJsonObject(join(dir, path)), join(dir, path));
  const scheduler = parseScheduler(await read('scheduler/scheduler_config.json'));
  const tokenizerJson = (await read('tokenizer/tokenizer.json')).value;
  const tokenizerConfig = await read('tokenizer/tokenizer_config.json');
  const te = await read('text_encoder/config.json');
  const tr = await read('transformer/config.json');
  const textEncoder = {
    vocabSize: te.integer('vocab_size'),
    hiddenSize: te.integer('hidden_size'),
    maxLength: te.integer('max_length'),
  };
  const transformer = {
    inChannels: tr.integer('in_channels'),
    patchSize: tr.integer('patch_size'),
    jointAttentionDim: tr.integer('joint_attention_dim'),
    pooledProjectionDim: tr.integer('pooled_projection_dim'),
  };
  let vaeDecoder: VaeDecoderConfig | null = null;
  if (hasVae) {
    const vae = await read('vae_decoder/config.json');
    vaeDecoder = {
      latentChannels: vae.integer('latent_channels'),
      downsampleFactor: vae.integer('downsample_factor'),
      scalingFactor: vae.positiveNumber('scaling_factor'),
      shiftFactor: vae.number('shift_factor'),
    };
  }

  expectEqual(
    'text width',
    ['text_encoder hidden_size', textEncoder.hiddenSize],
    ['transformer joint_attention_dim', transformer.jointAttentionDim],
  );
  expectEqual(
    'pooled text width',
    ['text_encoder hidden_size', textEncoder.hiddenSize],
    ['transformer pooled_projection_dim', transformer.pooledProjectionDim],
  );
  expectEqual(
    'sequence length',
    ['text_encoder max_length', textEncoder.maxLength],
    ['tokenizer_config model_max_length', tokenizerConfig.integer('model_max_length')],
  );
  expectEqual(
    'latent channels',
    [
      vaeDecoder ? 'vae_decoder latent_channels' : 'RGB channels (no vae_decoder)',
      vaeDecoder?.latentChannels ?? 3,
    ],
    ['transformer in_channels', transformer.inChannels],
  );

  if (manifest.video && tr.has('temporal_patch')) {
    // A clip is cut into spacetime patches of temporal_patch frames: counts must split evenly.
    const patch = tr.integer('temporal_patch');
    if (manifest.video.frames.multipleOf % patch !== 0) {
      throw new ModelConfigError(
        `inconsistent model: video.frames.multiple_of = ${manifest.video.frames.multipleOf} is not a multiple of transformer temporal_patch = ${patch}`,
      );
    }
  }

  if (tr.has('out_channels')) {
    // The velocity must have the latents' shape: x ← x + Δσ·v.
    expectEqual(
      'velocity channels',
      ['transformer out_channels', tr.integer('out_channels')],
      ['transformer in_channels', transformer.inChannels],
    );
  }

  const downsampleFactor = vaeDecoder?.downsampleFactor ?? 1;
  const sizeMultiple = downsampleFactor * transformer.patchSize;
  const { width, height } = manifest.defaults;
  if (width % sizeMultiple !== 0 || height % sizeMultiple !== 0) {
    throw new ModelConfigError(
      `${indexPath}: default size ${width}x${height} is not a multiple of ${sizeMultiple} (downsample factor × patch size)`,
    );
  }

  const componentDirs: Partial<Record<OnnxComponent, string>> = {
    text_encoder: join(dir, 'text_encoder'),
    transformer: join(dir, 'transformer'),
  };
  if (hasVae) componentDirs.vae_decoder = join(dir, 'vae_decoder');
  if (hasEncoder) componentDirs.vae_encoder = join(dir, 'vae_encoder');

  return {
    dir,
    manifest,
    scheduler,
    tokenizerJson,
    tokenizerConfig: tokenizerConfig.value,
    textEncoder,
    transformer,
    vaeDecoder,
    componentDirs,
    downsampleFactor,
    sizeMultiple,
  };
}
