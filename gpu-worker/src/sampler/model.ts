import type { Runner } from '../runner/runner.ts';
import { decodeLatents, decodeToPixels, predictVelocity } from './components.ts';
import { openDecodeGraph } from './decode-graph.ts';
import { ModelConfigError } from './errors.ts';
import type { ExecutionOptions } from './execution.ts';
import { readModelConfig } from './model-config.ts';
import { openModel, warmUpText, type LoadedModel } from './open-model.ts';
import { openStepping, warmStepLoop, type Stepping } from './stepping/stepping.ts';

export interface LoadOptions extends ExecutionOptions {
  /** Run each graph once on a tiny input so the first request does not pay for it (default true). */
  readonly warmup?: boolean;
  /**
   * Step through the model's step graph where it has one (default true): continuous batching
   * across concurrent generate() calls, and CUDA graphs with the native runner on CUDA. false
   * steps through the transformer graph alone, one batch per generate() group.
   */
  readonly stepGraph?: boolean;
}

/** A loaded image model: its checked configs, tokenizer and one ONNX session per component. */
export interface DitModel extends LoadedModel {
  /** null for pixel-space models. */
  readonly vaeDecoder: Runner | null;
  /** The decode graph (latents → uint8 pixels in one run) where the device uses one, else null. */
  readonly pixelDecoder: Runner | null;
  /** The step loops (null: no step graph, or LoadOptions.stepGraph false). */
  readonly stepping: Stepping | null;
}

/**
 * One tiny run of each graph (batch 1, the smallest latent grid), then the step loop of the default
 * size: onnxruntime allocates and, on CUDA, picks kernels (and captures graphs) on the first run,
 * which would otherwise land on the first user's request.
 */
async function warmUp(model: DitModel): Promise<void> {
  const { config, tokenizer } = model;
  const length = tokenizer.maxLength;
  const text = await warmUpText(model);
  const p = config.transformer.patchSize;
  const latentShape = [config.transformer.inChannels, p, p] as const;
  const latents = new Float32Array(latentShape[0] * p * p);
  await predictVelocity(model.transformer, {
    latents,
    timestep: new Float32Array([config.scheduler.numTrainTimesteps]),
    text,
    batch: 1,
    latentShape,
    textLength: length,
    textWidth: config.textEncoder.hiddenSize,
  });
  if (model.pixelDecoder) await decodeToPixels(model.pixelDecoder, latents, 1, latentShape);
  else if (model.vaeDecoder) await decodeLatents(model.vaeDecoder, latents, 1, latentShape);

  // The step loop of the default size, which the default request uses.
  const { stepping } = model;
  if (!stepping) return;
  const { width, height } = config.manifest.defaults;
  const f = config.downsampleFactor;
  const latent = [config.transformer.inChannels, height / f, width / f] as const;
  const per = latent[0] * latent[1] * latent[2];
  await warmStepLoop(stepping, latent, {
    length,
    width: config.textEncoder.hiddenSize,
  });
  // And the decoder's cuDNN algorithm search, once per decode bucket of the default size.
  for (const rows of stepping.decodeBuckets ?? []) {
    const zeros = new Float32Array(rows * per);
    if (model.pixelDecoder) await decodeToPixels(model.pixelDecoder, zeros, rows, latent);
    else if (model.vaeDecoder) await decodeLatents(model.vaeDecoder, zeros, rows, latent);
  }
}

/**
 * Loads a model folder (docs/model-format.md): reads and cross-checks its configs, builds the
 * tokenizer, opens one session per ONNX component on the chosen device, and warms them up.
 */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<DitModel> {
  const config = await readModelConfig(dir);
  if (config.manifest.modality !== 'image') {
    throw new ModelConfigError(
      `${config.dir} is a ${config.manifest.modality} model: load it with loadVideoModel (gpu-worker/src/sampler/video)`,
    );
  }
  const opened = await openModel(config, ['text_encoder', 'transformer'], options);
  const { tokenizer, device, fallbackReason, runner, releaseSessions, opsLibrary } = opened;
  let stepping: Stepping | null = null;
  let pixelDecoder: Runner | null = null;
  try {
    pixelDecoder = await openDecodeGraph(config, device, runner, options.threads, opsLibrary);
    if (options.stepGraph ?? true) {
      stepping = await openStepping(config, tokenizer.maxLength, {
        device,
        runner,
        opsLibrary,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      });
    }
  } catch (error) {
    await pixelDecoder?.release();
    await releaseSessions();
    throw error;
  }
  const model: DitModel = {
    config,
    tokenizer,
    device,
    fallbackReason,
    runner,
    textEncoder: opened.required.text_encoder,
    transformer: opened.required.transformer,
    vaeDecoder: opened.sessions.vae_decoder ?? null,
    pixelDecoder,
    stepping,
    async release() {
      await stepping?.release();
      await pixelDecoder?.release();
      await releaseSessions();
    },
  };
  if (options.warmup ?? true) await warmUp(model);
  return model;
}
