import type { VideoManifest } from '../../model-contract/video-manifest.ts';
import type { RunnerKind } from '../../runner/index.ts';
import type { Runner } from '../../runner/runner.ts';
import { decodeLatents, encodeText } from '../components.ts';
import { ModelConfigError, ModelFileMissingError } from '../errors.ts';
import { openSessions, type Device, type ExecutionOptions } from '../execution.ts';
import { readModelConfig, type ModelConfig } from '../model-config.ts';
import { PromptTokenizer } from '../tokenizer.ts';
import { encodeFrames, predictClipVelocity } from './components.ts';

export interface VideoLoadOptions extends ExecutionOptions {
  /** Run each graph once on a tiny input so the first request does not pay for it (default true). */
  readonly warmup?: boolean;
}

/** A loaded video model: its checked configs, tokenizer and one ONNX session per component. */
export interface VideoModel {
  readonly config: ModelConfig;
  /** The manifest's clip limits (config.manifest.video, never null here). */
  readonly video: VideoManifest;
  readonly tokenizer: PromptTokenizer;
  readonly device: Device;
  /** Why device 'auto' ended on the CPU; null otherwise. */
  readonly fallbackReason: string | null;
  readonly runner: RunnerKind;
  readonly textEncoder: Runner;
  readonly transformer: Runner;
  readonly vaeDecoder: Runner;
  /** null when the model takes no given frames (no image-to-video, no extension). */
  readonly vaeEncoder: Runner | null;
  /** Frees the native sessions; the model is unusable afterwards. */
  release(): Promise<void>;
}

/**
 * One run of each graph on the smallest clip (one spacetime patch): onnxruntime allocates and,
 * on CUDA, picks kernels on the first run, which would otherwise land on the first request.
 */
async function warmUp(model: VideoModel): Promise<void> {
  const { config, tokenizer } = model;
  const length = tokenizer.maxLength;
  const text = await encodeText(
    model.textEncoder,
    tokenizer.toInputIds([tokenizer.encode('')]),
    1,
    length,
  );
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
  const frame = [clip.channels, p, p] as const;
  await decodeLatents(model.vaeDecoder, new Float32Array(clip.channels * p * p), 1, frame);
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
  const tokenizer = new PromptTokenizer(config.tokenizerJson, config.tokenizerConfig);
  const { device, sessions, fallbackReason } = await openSessions(config, options);
  const release = async (): Promise<void> => {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
  };
  const {
    text_encoder: textEncoder,
    transformer,
    vae_decoder: vaeDecoder,
    vae_encoder: vaeEncoder = null,
  } = sessions;
  if (!textEncoder || !transformer || !vaeDecoder) {
    // readModelConfig requires them for a video model; this only guards the types.
    await release();
    throw new ModelFileMissingError(
      `${config.dir}: text_encoder, transformer and vae_decoder are required`,
    );
  }
  const model: VideoModel = {
    config,
    video,
    tokenizer,
    device,
    fallbackReason,
    runner: options.runner ?? 'stock',
    textEncoder,
    transformer,
    vaeDecoder,
    vaeEncoder,
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
