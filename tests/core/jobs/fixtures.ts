import type { GenerationData, GenerationJob, GenerationParams } from '../../../core/generation.ts';

/** The request of every job in these tests: model `m`, 128×128, 8 steps. */
export const PARAMS: GenerationParams = {
  prompt: 'a red circle',
  negativePrompt: '',
  model: 'm',
  width: 128,
  height: 128,
  steps: 8,
  guidanceScale: 4.5,
  sampler: 'euler',
  seed: 1,
  numImages: 1,
  outputFormat: 'png',
};

/** A job record of tenant `t` with the fields given (version 1, created at `createdAt`). */
export function jobRecord(
  id: string,
  createdAt: string,
  patch: Partial<GenerationJob> = {},
  data: Partial<GenerationData> = {},
): GenerationJob {
  return {
    id,
    tenant: 't',
    status: 'queued',
    version: 1,
    createdAt,
    data: { params: PARAMS, ...data },
    ...patch,
  };
}
