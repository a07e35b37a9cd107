import { z } from '@hono/zod-openapi';

export const Model = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    version: z.string(),
    description: z.string(),
    modality: z.enum(['image', 'video']),
    defaults: z.object({
      width: z.int(),
      height: z.int(),
      steps: z.int(),
      guidance_scale: z.number(),
      sampler: z.string(),
      output_format: z.string().optional().openapi({ description: 'Image models.' }),
      frames: z.int().optional().openapi({ description: 'Video models.' }),
    }),
    sizes: z.array(z.string()).openapi({ example: ['128x128', '192x128', '128x192'] }),
    aspect_ratios: z.record(z.string(), z.string()),
    samplers: z.array(z.string()),
    output_formats: z
      .array(z.string())
      .openapi({ description: 'What `output_format` takes; empty for video models.' }),
    limits: z.object({
      steps: z.object({ min: z.int(), max: z.int() }),
      guidance_scale: z.object({ min: z.number(), max: z.number() }),
      prompt_chars: z.int(),
      prompt_tokens: z.int(),
      num_images: z.object({ min: z.int(), max: z.int() }),
    }),
    vocabulary: z.record(z.string(), z.array(z.string())),
    video: z
      .object({
        frames: z.object({ min: z.int(), max: z.int(), multiple_of: z.int() }),
        fps: z.number(),
        image_to_video: z.boolean(),
        extend: z.boolean(),
        extend_context_frames: z.int(),
        files: z.array(z.string()).openapi({
          description: 'What each clip comes as: mp4 (where H.264 is available), webp, png.',
        }),
      })
      .optional()
      .openapi({ description: 'Video models: what `frames`, `fps`, `init_image`, `extend` take.' }),
  })
  .openapi('Model');

export const ModelList = z
  .object({ object: z.literal('list'), data: z.array(Model) })
  .openapi('ModelList');
