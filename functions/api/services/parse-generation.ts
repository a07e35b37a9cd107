import type { GenerationParams } from '../../../core/generation.ts';
import type { ModelCatalog, ModelInfo } from '../../../core/model-catalog.ts';
import { ValidationError } from '../errors.ts';
import { GenerationCreate, type GenerationCreateBody } from '../schemas/generation.ts';
import { fieldProblems } from '../schemas/zod-problems.ts';
import { resolveParams } from './resolve-params.ts';

export interface ParsedGeneration {
  readonly body: GenerationCreateBody;
  readonly params: GenerationParams;
  readonly model: ModelInfo;
  readonly warnings: readonly string[];
}

/**
 * The one check of a generation request, for callers that get it from elsewhere than an HTTP
 * body (the CLI): the wire schema the API validates with, then the model's limits, so that an
 * input is accepted or refused, with the same field and code, wherever it comes from.
 */
export function parseGeneration(input: unknown, models: ModelCatalog): ParsedGeneration {
  const parsed = GenerationCreate.safeParse(input);
  if (!parsed.success) throw new ValidationError(fieldProblems(parsed.error, GenerationCreate));
  return { body: parsed.data, ...resolveParams(parsed.data, models) };
}
