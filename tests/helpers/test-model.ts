import { readFile } from 'node:fs/promises';
import { upsampleNearest, writeJson, writeModelFolder, type Component } from './model-folder.ts';
import { attr, DataType, GraphBuilder } from './onnx-builder.ts';

export { writeJson } from './model-folder.ts';

/**
 * A complete model folder (docs/model-format.md) whose graphs compute closed-form functions, so
 * tests can predict the sampler's output by hand:
 *
 *   text encoder   h[b,l,d] = ids[b,l]·W[d],  pooled[b,d] = m_b·W[d],  m_b = mean_l ids[b,l]
 *   transformer    c[b,k] = pooled[b,k] + mean_{l,d} h[b,l,d] = m_b·(W[k] + mean(W))
 *                  v = ALPHA·(x − c) / (timestep / 1000)        (a velocity field in closed form)
 *   vae decoder    nearest-neighbour ×2 upsampling (downsample_factor 2)
 *
 * With Euler, x_{i+1} − c = (x_i − c)·(1 + ALPHA·(σ_{i+1} − σ_i)/σ_i), so the final latent is
 * c + (x_0 − c)·Π_i(…). CFG is linear in c: guided, the field is the same with
 * c = c_uncond + g·(c_cond − c_uncond). The timestep enters as σ = t/1000, so a wrong timestep
 * vector changes the result.
 */
export const TEST_MODEL = {
  maxLength: 8,
  /** Text width D = latent channels C = 3 (the transformer adds pooled[b, k] to channel k). */
  weights: [0.3, -0.2, 0.1],
  alpha: 0.5,
  shift: 3,
  numTrainTimesteps: 1000,
  scalingFactor: 2,
  shiftFactor: 0.1,
  downsampleFactor: 2,
  patchSize: 2,
  defaults: { steps: 4, guidance_scale: 2, width: 8, height: 4, sampler: 'euler' },
} as const;

const D = TEST_MODEL.weights.length;

/** h[b,l,d] = ids[b,l]·weights[d], pooled[b,d] = mean_l h[b,l,d] (D = weights.length). */
export function textEncoderGraph(weights: readonly number[] = TEST_MODEL.weights): Uint8Array {
  const g = new GraphBuilder('text_encoder');
  const width = weights.length;
  const ids = g.input('input_ids', 'int64', ['B', 'L']);
  const asFloat = g.node('Cast', [ids], { to: attr.int(DataType.FLOAT) });
  const column = g.node('Unsqueeze', [asFloat, g.constant('int64', [1], [2])]);
  const w = g.constant('float32', [width], [...weights]);
  g.node('Mul', [column, w], {}, 'last_hidden_state');
  g.node(
    'ReduceMean',
    ['last_hidden_state'],
    { axes: attr.ints([1]), keepdims: attr.int(0) },
    'pooled_output',
  );
  g.output('last_hidden_state', 'float32', ['B', 'L', width]);
  g.output('pooled_output', 'float32', ['B', width]);
  return g.toBytes();
}

function transformerGraph(): Uint8Array {
  const g = new GraphBuilder('transformer');
  const x = g.input('hidden_states', 'float32', ['B', D, 'h', 'w']);
  const t = g.input('timestep', 'float32', ['B']);
  const hidden = g.input('encoder_hidden_states', 'float32', ['B', 'L', D]);
  const pooled = g.input('pooled_projections', 'float32', ['B', D]);
  const axes123 = g.constant('int64', [3], [1, 2, 3]);
  const perChannel = g.node('Unsqueeze', [pooled, g.constant('int64', [2], [2, 3])]);
  const textMean = g.node('ReduceMean', [hidden], {
    axes: attr.ints([1, 2]),
    keepdims: attr.int(0),
  });
  const offset = g.node('Unsqueeze', [textMean, axes123]);
  const c = g.node('Add', [perChannel, offset]);
  const diff = g.node('Sub', [x, c]);
  const scaled = g.node('Mul', [
    diff,
    g.constant('float32', [], [TEST_MODEL.alpha * TEST_MODEL.numTrainTimesteps]),
  ]);
  g.node('Div', [scaled, g.node('Unsqueeze', [t, axes123])], {}, 'sample');
  g.output('sample', 'float32', ['B', D, 'h', 'w']);
  return g.toBytes();
}

function vaeDecoderGraph(): Uint8Array {
  const g = new GraphBuilder('vae_decoder');
  const z = g.input('latent_sample', 'float32', ['B', D, 'h', 'w']);
  upsampleNearest(g, z, TEST_MODEL.downsampleFactor);
  g.output('sample', 'float32', ['B', 3, 'H', 'W']);
  return g.toBytes();
}

export interface TestModelOptions {
  /** No vae_decoder: the transformer's latents are the RGB image (downsample factor 1). */
  readonly pixelSpace?: boolean;
}

/** Writes the test model into `dir` (created if needed) and returns `dir`. */
export async function writeTestModel(
  dir: string,
  { pixelSpace = false }: TestModelOptions = {},
): Promise<string> {
  const components: Component[] = [
    [
      'text_encoder',
      textEncoderGraph(),
      {
        vocab_size: 32,
        hidden_size: D,
        num_layers: 0,
        num_heads: 1,
        max_length: TEST_MODEL.maxLength,
      },
    ],
    [
      'transformer',
      transformerGraph(),
      {
        in_channels: D,
        patch_size: TEST_MODEL.patchSize,
        hidden_size: D,
        depth: 0,
        num_heads: 1,
        mlp_ratio: 1,
        joint_attention_dim: D,
        pooled_projection_dim: D,
      },
    ],
  ];
  if (!pixelSpace) {
    components.push([
      'vae_decoder',
      vaeDecoderGraph(),
      {
        latent_channels: D,
        downsample_factor: TEST_MODEL.downsampleFactor,
        scaling_factor: TEST_MODEL.scalingFactor,
        shift_factor: TEST_MODEL.shiftFactor,
      },
    ]);
  }
  const size = pixelSpace
    ? TEST_MODEL.patchSize
    : TEST_MODEL.downsampleFactor * TEST_MODEL.patchSize;
  return writeModelFolder(dir, {
    components,
    maxLength: TEST_MODEL.maxLength,
    numTrainTimesteps: TEST_MODEL.numTrainTimesteps,
    shift: TEST_MODEL.shift,
    modelIndex: {
      _class_name: 'DitservePipeline',
      scheduler: ['ditserve', 'FlowMatchEulerDiscreteScheduler'],
      tokenizer: ['ditserve', 'WordLevelTokenizer'],
      text_encoder: ['ditserve', 'TextEncoder'],
      transformer: ['ditserve', 'MMDiT'],
      vae_decoder: pixelSpace ? [null, null] : ['ditserve', 'VaeDecoder'],
      ditserve: {
        name: pixelSpace ? 'test-pixels' : 'test-latents',
        version: '0.0.1',
        description: 'closed-form test model written by tests/helpers/test-model.ts',
        defaults: TEST_MODEL.defaults,
        sizes: [
          [TEST_MODEL.defaults.width, TEST_MODEL.defaults.height],
          [size, size],
        ],
        vocabulary: {},
        variants: { cpu: 'model.onnx', cuda: 'model.fp16.onnx' },
      },
    },
  });
}

/** Rewrites one JSON file of a model folder (for tests of broken models). */
export async function patchJson(
  path: string,
  patch: (value: Record<string, unknown>) => void,
): Promise<void> {
  const value = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  patch(value);
  await writeJson(path, value);
}
