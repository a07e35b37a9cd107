import { encodeText, predictVelocity, type TextEmbeddings } from './components.ts';
import { GenerationCanceledError, InvalidRequestError } from './errors.ts';
import { generateStepped } from './generate-stepped.ts';
import { applyGuidance } from './guidance.ts';
import type { DitModel } from './model.ts';
import { latentNoise } from './noise.ts';
import {
  groupByShapeAndSchedule,
  resolveRequest,
  type GenerationRequest,
  type ResolvedRequest,
} from './request.ts';
import { createScheduler } from './schedulers/registry.ts';
import { decodeImages, resultOf } from './to-result.ts';
import type { VelocityFn } from './schedulers/types.ts';

/** Called after every denoising step: steps done so far, steps in the whole call, ms since start. */
export type ProgressCallback = (step: number, total: number, elapsedMs: number) => void;

export interface GenerateOptions {
  readonly onProgress?: ProgressCallback | undefined;
  /** Checked between steps; when it has fired, generate() rejects with GenerationCanceledError. */
  readonly signal?: AbortSignal | undefined;
}

/** One generated image with the parameters that made it (enough to reproduce it). */
export interface GenerationResult extends ResolvedRequest {
  /** uint8 RGB, row-major HWC: width × height × 3 bytes. */
  readonly pixels: Uint8Array;
  /** Words of the prompt or negative prompt that the vocabulary lacks (they became [UNK]). */
  readonly unknownWords: readonly string[];
  /** True when the prompt or negative prompt was cut to the model's text length. */
  readonly truncated: boolean;
}

interface Progress {
  done: number;
  readonly total: number;
  readonly start: number;
  readonly options: GenerateOptions;
}

function throwIfCanceled(signal: AbortSignal | undefined, progress: Progress): void {
  if (signal?.aborted) {
    throw new GenerationCanceledError(
      `generation canceled after ${progress.done} of ${progress.total} steps`,
      { cause: signal.reason },
    );
  }
}

/**
 * Generates one image per request, in request order.
 *
 * With a step graph (model.stepping) and the Euler sampler, every image joins the step loop of
 * its size, with its own steps and guidance, and shares each step with concurrent calls
 * (generate-stepped.ts). Otherwise requests that share size, steps and sampler run as one batch
 * (prompts, seeds and guidance may differ). Incompatible requests in one call are not an error: each compatible group runs as
 * its own batch, one after another, and progress counts the steps of all groups.
 * A request's image does not depend on the other requests of the call: its noise comes from its
 * own seed and every graph treats batch rows independently.
 */
export async function generate(
  model: DitModel,
  requests: readonly GenerationRequest[],
  options: GenerateOptions = {},
): Promise<GenerationResult[]> {
  // (1) Validate, fill defaults and group requests that can share a batch.
  if (requests.length === 0) throw new InvalidRequestError('generate() needs at least one request');
  const resolved = requests.map((r, i) =>
    resolveRequest(r, model.config, requests.length > 1 ? `request ${i}` : 'request'),
  );
  // Euler requests go through the step loops where the model has them (continuous batching).
  const stepping = model.stepping;
  if (stepping && resolved.every((r) => r.sampler === 'euler')) {
    if (options.signal?.aborted) {
      throw new GenerationCanceledError('generation canceled before it started', {
        cause: options.signal.reason,
      });
    }
    return generateStepped(model, stepping, resolved, options);
  }
  const groups = groupByShapeAndSchedule(resolved);
  const progress: Progress = {
    done: 0,
    total: groups.reduce((sum, g) => sum + (g[0]?.request.steps ?? 0), 0),
    start: performance.now(),
    options,
  };
  const results = new Array<GenerationResult>(requests.length);
  for (const group of groups) {
    const images = await generateBatch(
      model,
      group.map((g) => g.request),
      progress,
    );
    group.forEach((g, j) => {
      const image = images[j];
      if (image) results[g.index] = image;
    });
  }
  return results;
}

/** Steps (2)–(8) for requests that share size, steps and sampler. */
async function generateBatch(
  model: DitModel,
  batch: readonly ResolvedRequest[],
  progress: Progress,
): Promise<GenerationResult[]> {
  const { config, tokenizer } = model;
  const { signal, onProgress } = progress.options;
  const [first] = batch;
  if (!first) return [];
  throwIfCanceled(signal, progress);
  const b = batch.length;
  const scales = batch.map((r) => r.guidanceScale);
  // g = 1 everywhere means v = v_cond: the uncond half is never computed.
  const guided = scales.some((g) => g !== 1);
  const rows = guided ? 2 * b : b;

  // (2) Tokenize the prompts and the unconditional texts (negative prompt, or "").
  const cond = batch.map((r) => tokenizer.encode(r.prompt));
  const uncond = batch.map((r) => tokenizer.encode(r.negativePrompt));

  // (3) One text-encoder run for the whole batch, laid out [cond…, uncond…].
  const encoded = guided ? [...cond, ...uncond] : cond;
  const length = tokenizer.maxLength;
  const text: TextEmbeddings = await encodeText(
    model.textEncoder,
    tokenizer.toInputIds(encoded),
    rows,
    length,
  );

  // (4) Initial latents, each sample from its own seed.
  const f = config.downsampleFactor;
  const latentShape = [config.transformer.inChannels, first.height / f, first.width / f] as const;
  const perSample = latentShape[0] * latentShape[1] * latentShape[2];
  const x = latentNoise(
    batch.map((r) => r.seed),
    latentShape,
  );

  // (5) Denoise: one transformer run of `rows` samples per model evaluation.
  const modelInput = guided ? new Float32Array(rows * perSample) : null;
  const timestep = new Float32Array(rows);
  const velocity: VelocityFn = async (latents, t) => {
    let input = latents;
    if (modelInput) {
      modelInput.set(latents);
      modelInput.set(latents, b * perSample);
      input = modelInput;
    }
    timestep.fill(t);
    const v = await predictVelocity(model.transformer, {
      latents: input,
      timestep,
      text,
      batch: rows,
      latentShape,
      textLength: length,
      textWidth: config.textEncoder.hiddenSize,
    });
    return guided ? applyGuidance(v, scales, perSample) : v;
  };
  const scheduler = createScheduler(first.sampler, config.scheduler, first.steps);
  for (let i = 0; i < scheduler.steps; i++) {
    throwIfCanceled(signal, progress);
    await scheduler.step(x, i, velocity);
    // (6) Report progress after each step.
    progress.done += 1;
    onProgress?.(progress.done, progress.total, performance.now() - progress.start);
  }
  throwIfCanceled(signal, progress);

  // (7) Back to uint8 RGB HWC pixels: unscale and decode with the VAE, or take the latents as RGB.
  const pixels = await decodeImages(model, x, b, latentShape, first.width, first.height);

  // (8) One result per request.
  return batch.map((request, s) =>
    resultOf(request, pixels[s] ?? new Uint8Array(0), cond[s], uncond[s]),
  );
}
