import { encodeText, type TextEmbeddings } from '../components.ts';
import { InvalidRequestError } from '../errors.ts';
import type { GenerateOptions } from '../generate.ts';
import { applyGuidance } from '../guidance.ts';
import { latentNoise } from '../noise.ts';
import { createScheduler, type SamplerName } from '../schedulers/registry.ts';
import type { VelocityFn } from '../schedulers/types.ts';
import { clipSize, type ClipShape } from './clip-layout.ts';
import { predictClipVelocity } from './components.ts';
import { imposeGivenFrames, prepareConditioning, type Conditioning } from './conditioning.ts';
import { denoiseStepped } from './denoise-stepped.ts';
import { decodeClips } from './decode.ts';
import type { VideoModel } from './model.ts';
import { StepProgress } from './progress.ts';
import {
  groupClips,
  resolveVideoRequest,
  type CheckedClip,
  type ResolvedVideoRequest,
  type VideoClipRequest,
  type VideoRequest,
} from './request.ts';

/** One generated clip with the parameters that made it (enough to reproduce it). */
export interface VideoResult {
  /**
   * The clip's frames in order, each uint8 RGB row-major HWC (width × height × 3 bytes, the
   * layout of the image path's pixels). An extension holds its new frames only: F − K of them.
   */
  readonly frames: readonly Uint8Array[];
  readonly width: number;
  readonly height: number;
  /** Playback rate: the model's (video.fps). */
  readonly fps: number;
  readonly seed: number;
  /** Every parameter, defaults filled in. */
  readonly request: ResolvedVideoRequest;
  /** Words of the prompt or negative prompt that the vocabulary lacks (they became [UNK]). */
  readonly unknownWords: readonly string[];
  /** True when the prompt or negative prompt was cut to the model's text length. */
  readonly truncated: boolean;
}

/** generateVideos() for one clip, with the request's own progress and cancellation hooks. */
export async function generateVideo(
  model: VideoModel,
  request: VideoRequest,
): Promise<VideoResult> {
  const { onProgress, signal, ...clip } = request;
  const [result] = await generateVideos(model, [clip], { onProgress, signal });
  if (!result) throw new Error('generateVideos() returned no clip');
  return result;
}

/**
 * Generates one clip per request, in request order. Clips that share size, frame count, steps
 * and sampler run as one batch (prompts, seeds, guidance and given frames may differ); other
 * clips of the call run as their own batches, one after another, and progress counts the steps
 * of all of them. A clip does not depend on the others of its call: its noise comes from its
 * own seed and every graph treats batch rows independently.
 */
export async function generateVideos(
  model: VideoModel,
  requests: readonly VideoClipRequest[],
  options: GenerateOptions = {},
): Promise<VideoResult[]> {
  // (1) Check inputs: fill defaults, validate, group clips that can share a batch.
  if (requests.length === 0) {
    throw new InvalidRequestError('generateVideos() needs at least one request');
  }
  const checked = requests.map((r, i) =>
    resolveVideoRequest(r, model.config, requests.length > 1 ? `request ${i}` : 'request'),
  );
  const groups = groupClips(checked);
  const progress = new StepProgress(
    groups.reduce((sum, g) => sum + (g[0]?.clip.request.steps ?? 0), 0),
    options,
  );
  const results = new Array<VideoResult>(requests.length);
  for (const group of groups) {
    const clips = await generateBatch(
      model,
      group.map((g) => g.clip),
      progress,
    );
    group.forEach((g, j) => {
      const clip = clips[j];
      if (clip) results[g.index] = clip;
    });
  }
  return results;
}

/** Steps (2)–(7) for clips that share size, frames, steps and sampler. */
async function generateBatch(
  model: VideoModel,
  batch: readonly CheckedClip[],
  progress: StepProgress,
): Promise<VideoResult[]> {
  const { config, tokenizer } = model;
  const [first] = batch;
  if (!first) return [];
  const { width, height, frames, steps, sampler } = first.request;
  progress.throwIfCanceled();
  const b = batch.length;
  const scales = batch.map((c) => c.request.guidanceScale);
  // Euler clips go through the step loop where the model has one; its graph always takes both
  // halves. Otherwise g = 1 everywhere means v = v_cond: the uncond half is never computed.
  const stepping = sampler === 'euler' ? model.stepping : null;
  const guided = scales.some((g) => g !== 1);
  const rows = guided || stepping ? 2 * b : b;

  // (2) Encode the prompts and the unconditional texts (negative prompt, or "") in one
  //     text-encoder run, laid out [cond…, uncond…].
  const cond = batch.map((c) => tokenizer.encode(c.request.prompt));
  const uncond = batch.map((c) => tokenizer.encode(c.request.negativePrompt));
  const length = tokenizer.maxLength;
  const text = await encodeText(
    model.textEncoder,
    tokenizer.toInputIds(rows > b ? [...cond, ...uncond] : cond),
    rows,
    length,
  );

  // (3) Initial latents: one noise tensor [C, F, h, w] per clip from its seed (normals in C
  //     order: channel, frame, row, column), so frame t of a seed is the same in any batch.
  const f = config.downsampleFactor;
  const shape: ClipShape = {
    channels: config.transformer.inChannels,
    frames,
    height: height / f,
    width: width / f,
  };
  const x = latentNoise(
    batch.map((c) => c.request.seed),
    [shape.channels, shape.frames, shape.height, shape.width],
  );

  // (4) Conditioning: the given frames' clean latents and their mask.
  const given = await prepareConditioning(
    model,
    batch.map((c) => c.given),
    shape,
    width,
    height,
  );
  progress.throwIfCanceled();

  // (5) Denoise: through the step loop, or one transformer run of `rows` clips per model
  //     evaluation (the uncond half gets the same cond_latents and cond_mask as the cond half).
  if (stepping) {
    await denoiseStepped(stepping, x, given, text, {
      shape,
      guidance: scales,
      steps,
      shift: config.scheduler.shift,
      textLength: length,
      textWidth: config.textEncoder.hiddenSize,
      progress,
    });
  } else {
    await denoise(model, x, given, text, { shape, scales, guided, steps, sampler, progress });
  }
  progress.throwIfCanceled();
  imposeGivenFrames(x, given, shape);

  // (6)–(7) Decode every frame (batched) and take uint8 RGB; an extension drops its context.
  const decoded = await decodeClips(model, x, b, shape, width, height);
  return batch.map(({ request }, s) => {
    const skip = request.mode === 'extend' ? model.video.extendContextFrames : 0;
    return {
      frames: (decoded[s] ?? []).slice(skip),
      width,
      height,
      fps: model.video.fps,
      seed: request.seed,
      request,
      unknownWords: [
        ...new Set([...(cond[s]?.unknownWords ?? []), ...(uncond[s]?.unknownWords ?? [])]),
      ],
      truncated: (cond[s]?.truncated ?? false) || (uncond[s]?.truncated ?? false),
    };
  });
}

/** Step (5) through the transformer graph: the model's scheduler, guidance in JS. */
async function denoise(
  model: VideoModel,
  x: Float32Array,
  given: Conditioning,
  text: TextEmbeddings,
  o: {
    readonly shape: ClipShape;
    readonly scales: readonly number[];
    readonly guided: boolean;
    readonly steps: number;
    readonly sampler: SamplerName;
    readonly progress: StepProgress;
  },
): Promise<void> {
  const { config, tokenizer } = model;
  const { shape, scales, guided, steps, sampler, progress } = o;
  const b = scales.length;
  const rows = guided ? 2 * b : b;
  const per = clipSize(shape);
  const length = tokenizer.maxLength;
  const modelInput = guided ? new Float32Array(rows * per) : null;
  const condLatents = guided ? twice(given.latents) : given.latents;
  const condMask = guided ? twice(given.mask) : given.mask;
  const timestep = new Float32Array(rows);
  const velocity: VelocityFn = async (latents, t) => {
    let input = latents;
    if (modelInput) {
      modelInput.set(latents);
      modelInput.set(latents, b * per);
      input = modelInput;
    }
    timestep.fill(t);
    const v = await predictClipVelocity(model.transformer, {
      latents: input,
      timestep,
      text,
      condLatents,
      condMask,
      batch: rows,
      clip: shape,
      textLength: length,
      textWidth: config.textEncoder.hiddenSize,
    });
    return guided ? applyGuidance(v, scales, per) : v;
  };
  const scheduler = createScheduler(sampler, config.scheduler, steps);
  for (let i = 0; i < scheduler.steps; i++) {
    progress.throwIfCanceled();
    await scheduler.step(x, i, velocity);
    progress.stepDone();
  }
}

/** [a, a]: the uncond half of a CFG batch takes the cond half's conditioning. */
function twice(a: Float32Array): Float32Array {
  const out = new Float32Array(2 * a.length);
  out.set(a);
  out.set(a, a.length);
  return out;
}
