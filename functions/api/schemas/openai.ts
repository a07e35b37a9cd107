import { z } from '@hono/zod-openapi';
import { MAX_IMAGES_PER_REQUEST } from '../../../core/model-catalog.ts';
import { MAX_SEED } from '../../../gpu-worker/src/model-contract/index.ts';
import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';
import { OUTPUT_FORMATS } from './generation.ts';

/**
 * OpenAI's `images.generate` body, so its SDKs work by changing only baseURL and apiKey.
 * OpenAI-only knobs (quality, style, background, moderation, …) are accepted and ignored:
 * rejecting them would break clients that always send them.
 */
export const OpenAiImageRequest = z
  .strictObject({
    prompt: z.string().min(1).max(LIMITS.maxPromptChars),
    model: z.string().max(128).optional(),
    n: z.int().min(1).max(MAX_IMAGES_PER_REQUEST).optional(),
    size: z
      .string()
      .regex(/^(auto|\d{1,4}x\d{1,4})$/)
      .optional()
      .openapi({ example: '128x128' }),
    response_format: z.enum(['url', 'b64_json']).optional(),
    output_format: z.enum(OUTPUT_FORMATS).optional(),
    user: z.string().max(256).optional(),
    quality: z.string().max(32).optional(),
    style: z.string().max(32).optional(),
    background: z.string().max(32).optional(),
    moderation: z.string().max(32).optional(),
    output_compression: z.int().min(0).max(100).optional(),
    // ditserve extras
    negative_prompt: z.string().max(LIMITS.maxPromptChars).optional(),
    seed: z.int().min(0).max(MAX_SEED).optional(),
    steps: z.int().min(1).max(LIMITS.maxSteps).optional(),
    guidance_scale: z.number().min(0).max(LIMITS.maxGuidanceScale).optional(),
    guidance: z.number().min(0).max(LIMITS.maxGuidanceScale).optional(),
  })
  .openapi('OpenAiImageRequest');

export const OpenAiImagesResponse = z
  .object({
    created: z.int(),
    data: z.array(
      z.object({
        url: z.string().optional(),
        b64_json: z.string().optional(),
        revised_prompt: z.string().optional(),
      }),
    ),
    output_format: z.string().optional(),
    size: z.string().optional(),
  })
  .openapi('OpenAiImagesResponse');
