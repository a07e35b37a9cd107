import type { VideoManifest } from '../../model-contract/video-manifest.ts';
import type { Runner } from '../../runner/runner.ts';
import { decodeLatents, decodeToPixels } from '../components.ts';
import { openDecodeGraph } from '../decode-graph.ts';
import { ModelConfigError } from '../errors.ts';
import type { ExecutionOptions } from '../execution.ts';
import { readModelConfig } from '../model-config.ts';
import { openModel, warmUpText, type LoadedModel } from '../open-model.ts';
import { openStepping, warmStepLoop, type Stepping } from '../stepping/stepping.ts';
import { clipStepExtras, encodeFrames, predictClipVelocity } from './components.ts';
import { DECODE_FRAMES_PER_RUN } from './decode.ts';

export interface VideoLoadOptions extends ExecutionOptions {
  /** Run each graph once on a tiny input so the first request does not pay for it (default true). */
  readonly warmup?: boolean;
  /** Step Euler clips through the model's step graph where it has one (default true). */
  readonly stepGraph?: boolean;
}

/** A loaded video model: its checked configs, tokenizer and one ONNX session per component. */
export interface VideoModel extends LoadedModel {
  /** The manifest's clip limits (config.manifest.video, never null here). */
  readonly video: VideoManifest;
  readonly vaeDecoder: Runner;
  /** The decode graph (latents → uint8 frames in one run) where the device uses one, else null. */
  readonly pixelDecoder: Runner | null;
  /** null when the model takes no given frames (no image-to-video, no extension). */
  readonly vaeEncoder: Runner | null;
  /**
   * The step loops of its clip sizes (the model's step graph: continuous batching of clips, CUDA
   * graphs through the native runner on CUDA), or null: no step graph, or stepGraph false.
   */
  readonly stepping: Stepping | null;
}

/**
 * One run of each graph on the smallest clip (one spacetime patch): onnxruntime allocates and,
 * on CUDA, picks kernels on the first run, which would otherwise land on the first request.
 */
async function warmUp(model: VideoModel): Promise<void> {
  const { config, tokenizer } = model;
  const length = tokenizer.maxLength;
  const text = await warmUpText(model);
  const p = config.transformer.patchSize;
  const clip = {
    channels: config.transformer.inChannels,
    frames: model.video.frames.multipleOf,
    height: p,
    width: p,
  };
  const latents = new Float32Array(clip.channels * clip.frames * p * p);
  await predictClipVelocity(model.transformer, {
    latents,
    timestep: new Float32Array([config.scheduler.numTrainTimesteps]),
    text,
    condLatents: latents,
    condMask: new Float32Array(clip.frames),
    batch: 1,
    clip,
    textLength: length,
    textWidth: config.textEncoder.hiddenSize,
  });
  // The step loop and the frame decodes of the default clip, which the default request uses.
  const { width, height } = config.manifest.defaults;
  const f = config.downsampleFactor;
  const frames = model.video.defaultFrames;
  const latent = [clip.channels, frames, height / f, width / f];
  if (model.stepping) {
    await warmStepLoop(
      model.stepping,
      latent,
      { length, width: config.textEncoder.hiddenSize },
      clipStepExtras(latent),
    );
  }
  if (model.pixelDecoder) {
    // The decoder the clips use (the plain one is then unused). On CUDA each new input shape
    // costs cuDNN's search (PerShapeRunner keeps one session a shape): the default clip's
    // frames are searched here, not on a request.
    const n = Math.min(frames, DECODE_FRAMES_PER_RUN);
    const shape = [clip.channels, height / f, width / f] as const;
    const zeros = new Float32Array(n * shape[0] * shape[1] * shape[2]);
    await decodeToPixels(model.pixelDecoder, zeros, n, shape);
  } else {
    const frame = [clip.channels, p, p] as const;
    await decodeLatents(model.vaeDecoder, new Float32Array(clip.channels * p * p), 1, frame);
  }
  if (model.vaeEncoder) {
    const side = p * config.downsampleFactor;
    await encodeFrames(model.vaeEncoder, new Float32Array(3 * side * side), 1, side, side);
  }
}

/**
 * Loads a video model folder (model_index.json with ditserve.modality "video"): reads and
 * cross-checks its configs, opens one session per component (vae_encoder included) on the
 * chosen device through the same runners as loadModel, and warms them up.
 */
export async function loadVideoModel(
  dir: string,
  options: VideoLoadOptions = {},
): Promise<VideoModel> {
  const config = await readModelConfig(dir);
  const video = config.manifest.video;
  if (!video) {
    throw new ModelConfigError(
      `${config.dir} is an image model (model_index.json ditserve.modality is not "video"): load it with loadModel`,
    );
  }
  const opened = await openModel(config, ['text_encoder', 'transformer', 'vae_decoder'], options);
  let stepping: Stepping | null = null;
  let pixelDecoder: Runner | null = null;
  try {
    pixelDecoder = await openDecodeGraph(
      config,
      opened.device,
      opened.runner,
      options.threads,
      opened.opsLibrary,
    );
    if (options.stepGraph ?? true) {
      stepping = await openStepping(config, opened.tokenizer.maxLength, {
        device: opened.device,
        runner: opened.runner,
        opsLibrary: opened.opsLibrary,
        extrasOf: clipStepExtras,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      });
    }
  } catch (error) {
    await pixelDecoder?.release();
    await opened.releaseSessions();
    throw error;
  }
  const release = async (): Promise<void> => {
    await stepping?.release();
    await pixelDecoder?.release();
    await opened.releaseSessions();
  };
  const model: VideoModel = {
    config,
    video,
    tokenizer: opened.tokenizer,
    device: opened.device,
    fallbackReason: opened.fallbackReason,
    runner: opened.runner,
    textEncoder: opened.required.text_encoder,
    transformer: opened.required.transformer,
    vaeDecoder: opened.required.vae_decoder,
    pixelDecoder,
    vaeEncoder: opened.sessions.vae_encoder ?? null,
    stepping,
    release,
  };
  if (options.warmup ?? true) {
    try {
      await warmUp(model);
    } catch (error) {
      await release();
      throw error;
    }
  }
  return model;
}
