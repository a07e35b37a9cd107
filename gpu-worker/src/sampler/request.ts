import { randomInt } from 'node:crypto';
import type { GenerationParams } from '../../../core/generation.ts';
import { InvalidRequestError } from './errors.ts';
import type { ModelConfig } from './model-config.ts';
import { MAX_SEED } from './noise.ts';
import { isSamplerName, SAMPLER_NAMES, type SamplerName } from './schedulers/registry.ts';

/** One image to generate. Omitted fields take the model's defaults (model_index.json). */
export interface GenerationRequest {
  readonly prompt: string;
  /** Text to steer away from; "" (the default) is the plain unconditional prediction. */
  readonly negativePrompt?: string | undefined;
  /** Integer in [0, 2^53 − 1]; a random one is drawn (and returned) when omitted. */
  readonly seed?: number | undefined;
  readonly steps?: number | undefined;
  /** Classifier-free guidance scale g; 1 disables guidance (and halves the work). */
  readonly guidanceScale?: number | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly sampler?: string | undefined;
}

/** A request with every field filled in and checked. */
export interface ResolvedRequest {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
  readonly sampler: SamplerName;
}

/**
 * The sampler's requests for a checked generation, one per image (or clip): image n uses
 * seed + n, so each is reproducible alone. The worker and `ditserve generate` both make theirs
 * here; a clip's request adds its frames and given frames to each.
 */
export function perImageRequests(p: GenerationParams): GenerationRequest[] {
  return Array.from({ length: p.numImages }, (_, n) => ({
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    seed: p.seed + n,
    steps: p.steps,
    guidanceScale: p.guidanceScale,
    width: p.width,
    height: p.height,
    sampler: p.sampler,
  }));
}

/** Bounds that keep one request from monopolizing a worker; the model sets the size grid. */
export const LIMITS = {
  maxSteps: 200,
  maxGuidanceScale: 30,
  maxSide: 2048,
  maxPromptChars: 2000,
} as const;

function check(ok: boolean, where: string, message: string): void {
  if (!ok) throw new InvalidRequestError(`${where}: ${message}`);
}

function integerIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

/** Fills defaults from the model and validates; errors name the request and the field. */
export function resolveRequest(
  request: GenerationRequest,
  config: ModelConfig,
  where = 'request',
): ResolvedRequest {
  const d = config.manifest.defaults;
  const resolved = {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt ?? '',
    seed: request.seed ?? randomInt(0, 2 ** 48 - 1), // randomInt allows ranges below 2^48
    steps: request.steps ?? d.steps,
    guidanceScale: request.guidanceScale ?? d.guidanceScale,
    width: request.width ?? d.width,
    height: request.height ?? d.height,
    sampler: request.sampler ?? d.sampler,
  };
  for (const key of ['prompt', 'negativePrompt'] as const) {
    const text: unknown = resolved[key];
    check(typeof text === 'string', where, `${key} must be a string`);
    check(
      (text as string).length <= LIMITS.maxPromptChars,
      where,
      `${key} is longer than ${LIMITS.maxPromptChars} characters`,
    );
  }
  check(
    integerIn(resolved.seed, 0, MAX_SEED),
    where,
    `seed must be an integer in [0, ${MAX_SEED}]`,
  );
  check(
    integerIn(resolved.steps, 1, LIMITS.maxSteps),
    where,
    `steps must be an integer in [1, ${LIMITS.maxSteps}]`,
  );
  check(
    Number.isFinite(resolved.guidanceScale) &&
      resolved.guidanceScale >= 0 &&
      resolved.guidanceScale <= LIMITS.maxGuidanceScale,
    where,
    `guidanceScale must be a number in [0, ${LIMITS.maxGuidanceScale}]`,
  );
  const m = config.sizeMultiple;
  for (const key of ['width', 'height'] as const) {
    check(
      integerIn(resolved[key], m, LIMITS.maxSide) && resolved[key] % m === 0,
      where,
      `${key} must be a multiple of ${m} between ${m} and ${LIMITS.maxSide}, got ${resolved[key]}`,
    );
  }
  const sampler = resolved.sampler;
  if (!isSamplerName(sampler)) {
    throw new InvalidRequestError(
      `${where}: sampler must be one of ${SAMPLER_NAMES.join(', ')}, got "${sampler}"`,
    );
  }
  return { ...resolved, sampler };
}

/**
 * Splits requests into groups that can share one batch: the same size, step count and sampler
 * (prompts, seeds and guidance scales may differ). Groups keep the order of first appearance;
 * each entry keeps the index of its request.
 */
export function groupByShapeAndSchedule(
  requests: readonly ResolvedRequest[],
): { request: ResolvedRequest; index: number }[][] {
  const groups = new Map<string, { request: ResolvedRequest; index: number }[]>();
  requests.forEach((request, index) => {
    const key = `${request.width}x${request.height}/${request.steps}/${request.sampler}`;
    const group = groups.get(key) ?? [];
    group.push({ request, index });
    groups.set(key, group);
  });
  return [...groups.values()];
}
