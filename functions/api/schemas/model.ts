import { z } from '@hono/zod-openapi';

export const Model = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    version: z.string(),
    description: z.string(),
    defaults: z.object({
      width: z.int(),
      height: z.int(),
      steps: z.int(),
      guidance_scale: z.number(),
      sampler: z.string(),
      output_format: z.string(),
    }),
    sizes: z.array(z.string()).openapi({ example: ['128x128', '192x128', '128x192'] }),
    aspect_ratios: z.record(z.string(), z.string()),
    samplers: z.array(z.string()),
    output_formats: z.array(z.string()),
    limits: z.object({
      steps: z.object({ min: z.int(), max: z.int() }),
      guidance_scale: z.object({ min: z.number(), max: z.number() }),
      prompt_chars: z.int(),
      prompt_tokens: z.int(),
      num_images: z.object({ min: z.int(), max: z.int() }),
    }),
    vocabulary: z.record(z.string(), z.array(z.string())),
  })
  .openapi('Model');

export const ModelList = z
  .object({ object: z.literal('list'), data: z.array(Model) })
  .openapi('ModelList');
