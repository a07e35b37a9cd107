import { upsampleNearest, writeModelFolder, type Component } from './model-folder.ts';
import { attr, GraphBuilder } from './onnx-builder.ts';
import { TEST_MODEL, textEncoderGraph } from './test-model.ts';

/**
 * A complete video model folder (the image layout plus vae_encoder, transformer IO of the video
 * contract) whose graphs compute closed-form functions, so tests can predict every frame:
 *
 *   text encoder   h[b,l,d] = ids[b,l]·W[d], pooled[b,d] = m_b·W[d] (as the image test model)
 *   transformer    m[b,f] = cond_mask; S[b,k] = mean_{f,y,x} cond_latents[b,k,f,y,x]·m[b,f]
 *                  c[b,k] = pooled[b,k] + mean_{l,d} h[b,l,d] + BETA·S[b,k]
 *                  v = ((1 − m)·ALPHA·(x − c) + m·(x − cond_latents)) / (timestep / 1000)
 *   vae decoder    channels 0..2, nearest-neighbour ×2 upsampling
 *   vae encoder    2×2 average pooling, channel k ← RGB[k mod 3] (× 0.5 beyond the first three),
 *                  then (z − shift)·scale: decoding an encoded frame gives its pooled pixels back
 *
 * Free frames follow the image test model's flow towards c; given frames (m = 1) follow the
 * rectified-flow velocity towards their clean latents, so Euler lands on them exactly at σ = 0
 * (the real exported graph ends the same way). BETA makes the free frames depend on the given
 * latents too, so a test sees whether cond_latents and cond_mask reached the model, and CFG is
 * linear in c, so the uncond half must get the same cond_latents for the result to match.
 */
export const TEST_VIDEO_MODEL = {
  // The image test model's flow (alpha), scheduler, VAE factors and patch size.
  ...TEST_MODEL,
  channels: 16,
  /** Text width D = latent channels C (the transformer adds pooled[b, k] to channel k). */
  weights: [
    0.3, -0.2, 0.1, 0.05, -0.15, 0.25, 0.0, -0.05, 0.12, -0.08, 0.2, -0.1, 0.03, 0.07, -0.12, 0.15,
  ],
  beta: 0.8,
  temporalPatch: 2,
  defaults: {
    steps: 3,
    guidance_scale: 2,
    width: 8,
    height: 8,
    sampler: 'euler',
    frames: 6,
    fps: 8,
  },
  video: {
    frames: { min: 4, max: 12, multiple_of: 2 },
    fps: 8,
    image_to_video: true,
    extend: true,
    extend_context_frames: 2,
  },
} as const;

/**
 * The clip limits the sampler reads from that manifest (videoLimits), written out by hand: the
 * camelCase names, the default frames and the two small sizes of writeTestVideoModel.
 */
export const TEST_VIDEO_LIMITS = {
  frames: { min: 4, max: 12, multipleOf: 2 },
  defaultFrames: 6,
  fps: 8,
  imageToVideo: true,
  extend: true,
  extendContextFrames: 2,
  sizes: [
    [8, 8],
    [12, 8],
  ],
};

const M = TEST_VIDEO_MODEL;
const C = M.channels;
const AXES_1234 = [1, 2, 3, 4];

function transformerGraph(): Uint8Array {
  const g = new GraphBuilder('transformer');
  const x = g.input('hidden_states', 'float32', ['B', C, 'F', 'h', 'w']);
  const t = g.input('timestep', 'float32', ['B']);
  const hidden = g.input('encoder_hidden_states', 'float32', ['B', 'L', C]);
  const pooled = g.input('pooled_projections', 'float32', ['B', C]);
  const cond = g.input('cond_latents', 'float32', ['B', C, 'F', 'h', 'w']);
  const mask = g.input('cond_mask', 'float32', ['B', 'F']);
  const perChannel = g.node('Unsqueeze', [pooled, g.constant('int64', [3], [2, 3, 4])]);
  const textMean = g.node('ReduceMean', [hidden], {
    axes: attr.ints([1, 2]),
    keepdims: attr.int(0),
  });
  const offset = g.node('Unsqueeze', [textMean, g.constant('int64', [4], AXES_1234)]);
  const m = g.node('Unsqueeze', [mask, g.constant('int64', [3], [1, 3, 4])]);
  const given = g.node('Mul', [cond, m]);
  const s = g.node('ReduceMean', [given], { axes: attr.ints([2, 3, 4]), keepdims: attr.int(1) });
  const c = g.node('Add', [
    g.node('Add', [perChannel, offset]),
    g.node('Mul', [s, g.constant('float32', [], [M.beta])]),
  ]);
  const free = g.node('Mul', [g.node('Sub', [x, c]), g.constant('float32', [], [M.alpha])]);
  const notMask = g.node('Sub', [g.constant('float32', [], [1]), m]);
  const v = g.node('Add', [
    g.node('Mul', [free, notMask]),
    g.node('Mul', [g.node('Sub', [x, cond]), m]),
  ]);
  const scaled = g.node('Mul', [v, g.constant('float32', [], [M.numTrainTimesteps])]);
  const perSample = g.node('Unsqueeze', [t, g.constant('int64', [4], AXES_1234)]);
  g.node('Div', [scaled, perSample], {}, 'sample');
  g.output('sample', 'float32', ['B', C, 'F', 'h', 'w']);
  return g.toBytes();
}

function vaeDecoderGraph(): Uint8Array {
  const g = new GraphBuilder('vae_decoder');
  const z = g.input('latent_sample', 'float32', ['N', C, 'h', 'w']);
  const rgb = g.node('Slice', [
    z,
    g.constant('int64', [1], [0]),
    g.constant('int64', [1], [3]),
    g.constant('int64', [1], [1]),
  ]);
  upsampleNearest(g, rgb, M.downsampleFactor);
  g.output('sample', 'float32', ['N', 3, 'H', 'W']);
  return g.toBytes();
}

/** The encoder's 1×1 mixing: channel k takes RGB[k mod 3], at half weight beyond the first three. */
export function encoderWeight(k: number, rgb: number): number {
  if (k % 3 !== rgb) return 0;
  return k < 3 ? 1 : 0.5;
}

function vaeEncoderGraph(): Uint8Array {
  const g = new GraphBuilder('vae_encoder');
  const image = g.input('sample', 'float32', ['N', 3, 'H', 'W']);
  const f = M.downsampleFactor;
  const pooled = g.node('AveragePool', [image], {
    kernel_shape: attr.ints([f, f]),
    strides: attr.ints([f, f]),
  });
  const weights: number[] = [];
  for (let k = 0; k < C; k++) for (let j = 0; j < 3; j++) weights.push(encoderWeight(k, j));
  const z = g.node('Conv', [pooled, g.constant('float32', [C, 3, 1, 1], weights)]);
  const shifted = g.node('Sub', [z, g.constant('float32', [], [M.shiftFactor])]);
  g.node('Mul', [shifted, g.constant('float32', [], [M.scalingFactor])], {}, 'latent_sample');
  g.output('latent_sample', 'float32', ['N', C, 'h', 'w']);
  return g.toBytes();
}

export interface TestVideoModelOptions {
  /** Overrides of the "video" manifest entry (e.g. { extend: false }). */
  readonly video?: Readonly<Record<string, unknown>>;
  /** Sizes beyond the two small ones (e.g. a large one, for a clip slow enough to cancel). */
  readonly sizes?: readonly (readonly [number, number])[];
}

/** Writes the video test model into `dir` (created if needed) and returns `dir`. */
export async function writeTestVideoModel(
  dir: string,
  options: TestVideoModelOptions = {},
): Promise<string> {
  const vae = {
    latent_channels: C,
    downsample_factor: M.downsampleFactor,
    scaling_factor: M.scalingFactor,
    shift_factor: M.shiftFactor,
  };
  const components: Component[] = [
    [
      'text_encoder',
      textEncoderGraph(M.weights),
      { vocab_size: 32, hidden_size: C, num_layers: 0, num_heads: 1, max_length: M.maxLength },
    ],
    [
      'transformer',
      transformerGraph(),
      {
        _class_name: 'VideoMMDiT',
        in_channels: C,
        out_channels: C,
        patch_size: M.patchSize,
        temporal_patch: M.temporalPatch,
        hidden_size: C,
        depth: 0,
        num_heads: 1,
        mlp_ratio: 1,
        joint_attention_dim: C,
        pooled_projection_dim: C,
      },
    ],
    ['vae_decoder', vaeDecoderGraph(), vae],
    ['vae_encoder', vaeEncoderGraph(), vae],
  ];
  return writeModelFolder(dir, {
    components,
    maxLength: M.maxLength,
    numTrainTimesteps: M.numTrainTimesteps,
    shift: M.shift,
    modelIndex: {
      _class_name: 'DitserveVideoPipeline',
      scheduler: ['ditserve', 'FlowMatchEulerDiscreteScheduler'],
      tokenizer: ['ditserve', 'WordLevelTokenizer'],
      text_encoder: ['ditserve', 'TextEncoder'],
      transformer: ['ditserve', 'VideoMMDiT'],
      vae_decoder: ['ditserve', 'VaeDecoder'],
      vae_encoder: ['ditserve', 'VaeEncoder'],
      ditserve: {
        name: 'test-video',
        version: '0.0.1',
        description: 'closed-form video test model written by tests/helpers/test-video-model.ts',
        modality: 'video',
        defaults: M.defaults,
        sizes: [[M.defaults.width, M.defaults.height], [12, 8], ...(options.sizes ?? [])],
        video: { ...M.video, ...options.video },
        vocabulary: {},
        variants: { cpu: 'model.onnx', cuda: 'model.fp16.onnx' },
      },
    },
  });
}
