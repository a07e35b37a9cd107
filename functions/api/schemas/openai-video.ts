import { z } from '@hono/zod-openapi';
import { MAX_SEED } from '../../../gpu-worker/src/model-contract/index.ts';
import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';
import { GENERATION_ID } from './generation.ts';

/**
 * OpenAI's Videos API (`client.videos` of the openai SDKs): the SDKs send multipart/form-data,
 * so every value may arrive as a string; JSON bodies are taken too. `seed`, `steps`,
 * `guidance_scale` and `negative_prompt` are ditserve extras.
 */
const Seconds = z
  .union([z.string().regex(/^\d+(\.\d+)?$/), z.number().positive()])
  .openapi({ description: 'Clip length in seconds, within the model’s range (GET /v1/models).' });

const Reference = z.union([
  z.instanceof(File),
  z.strictObject({
    image_url: z.string().optional(),
    file_id: z.string().optional(),
  }),
]);

const Extras = {
  negative_prompt: z.string().max(LIMITS.maxPromptChars).optional(),
  seed: z.coerce.number().int().min(0).max(MAX_SEED).optional(),
  steps: z.coerce.number().int().min(1).max(LIMITS.maxSteps).optional(),
  guidance_scale: z.coerce.number().min(0).max(LIMITS.maxGuidanceScale).optional(),
};

export const OpenAiVideoCreate = z
  .strictObject({
    prompt: z.string().min(1).max(LIMITS.maxPromptChars),
    model: z.string().max(128).optional(),
    seconds: Seconds.optional(),
    size: z
      .string()
      .regex(/^\d{1,4}x\d{1,4}$/)
      .optional()
      .openapi({ example: '128x128' }),
    input_reference: Reference.optional().openapi({
      description: 'The first frame: an uploaded PNG/JPEG/WebP, or `{ image_url }` as a data URL.',
    }),
    ...Extras,
  })
  .openapi('OpenAiVideoCreate');

export const OpenAiVideoExtend = z
  .strictObject({
    prompt: z.string().min(1).max(LIMITS.maxPromptChars),
    seconds: Seconds.optional(),
    video: z.union([z.strictObject({ id: z.string().regex(GENERATION_ID) }), z.instanceof(File)]),
    ...Extras,
  })
  .openapi('OpenAiVideoExtend');

export const OpenAiVideo = z
  .object({
    id: z.string(),
    object: z.literal('video'),
    status: z.enum(['queued', 'in_progress', 'completed', 'failed']),
    progress: z.number(),
    model: z.string(),
    prompt: z.string().nullable(),
    seconds: z.string(),
    size: z.string(),
    created_at: z.int(),
    completed_at: z.int().nullable(),
    expires_at: z.int().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    remixed_from_video_id: z.string().nullable(),
  })
  .openapi('OpenAiVideo');

export const OpenAiVideoList = z
  .object({
    object: z.literal('list'),
    data: z.array(OpenAiVideo),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi('OpenAiVideoList');

export const OpenAiVideoDeleted = z
  .object({ id: z.string(), object: z.literal('video.deleted'), deleted: z.boolean() })
  .openapi('OpenAiVideoDeleted');

export const VideoIdParam = z.object({
  id: z
    .string()
    .regex(GENERATION_ID)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B' }),
});

export const VideoListQuery = z.strictObject({
  after: z.string().regex(GENERATION_ID).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  order: z.enum(['desc']).optional().openapi({ description: 'Newest first only.' }),
});

export const VideoContentQuery = z.strictObject({
  variant: z.enum(['video', 'thumbnail', 'webp']).optional().openapi({
    description: '`video`: the MP4 (the WebP where there is none); `webp` is ditserve’s.',
  }),
});
