import { z } from '@hono/zod-openapi';
import { WEBHOOK_EVENT_TYPES } from '../../../core/generation.ts';
import { MAX_IMAGES_PER_REQUEST } from '../../../core/model-catalog.ts';
import { MAX_SEED } from '../../../gpu-worker/src/model-contract/index.ts';
import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';
import { SAMPLER_NAMES } from '../../../gpu-worker/src/model-contract/index.ts';

/**
 * The wire contract of generations. These schemas validate requests and generate the OpenAPI
 * document; model-specific limits (sizes, steps, tokens) are checked against the model's
 * manifest after parsing, with the same problem format.
 */
export const OUTPUT_FORMATS = ['png', 'webp', 'jpeg'] as const;
export const JOB_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'expired',
] as const;

/** Ids of generations, as they appear in paths and in `extend`. */
export const GENERATION_ID = /^gen_[0-9A-Za-z]{1,64}$/;

/** Wire bounds of the video fields; each model's own range is checked after parsing. */
export const VIDEO_LIMITS = {
  maxFrames: 1024,
  maxSeconds: 600,
  maxFps: 240,
  /** A generous bound before decoding; the decoded size is checked against the API's limit. */
  maxInitImageChars: 16 * 1024 * 1024,
} as const;

export const METADATA_LIMITS = { maxKeys: 16, maxKeyChars: 64, maxValueChars: 512 } as const;

const Metadata = z
  .record(
    z.string().min(1).max(METADATA_LIMITS.maxKeyChars),
    z.string().max(METADATA_LIMITS.maxValueChars),
  )
  .refine((m) => Object.keys(m).length <= METADATA_LIMITS.maxKeys, {
    error: `has more than ${METADATA_LIMITS.maxKeys} keys`,
    params: { allowed: `at most ${METADATA_LIMITS.maxKeys} keys` },
  })
  .openapi({
    description: `Your own string map, stored and echoed back (≤ ${METADATA_LIMITS.maxKeys} keys).`,
    example: { order: 'A-1043' },
  });

export const WebhookRequest = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .openapi({ example: 'https://example.com/hooks/ditserve' }),
    events: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1)
      .optional()
      .openapi({ description: 'Event types to deliver; all of them when absent.' }),
  })
  .openapi('WebhookRequest');

export const GenerationCreate = z
  .strictObject({
    prompt: z
      .string()
      .min(1)
      .max(LIMITS.maxPromptChars)
      .openapi({ example: 'a red circle left of a blue square' }),
    negative_prompt: z.string().max(LIMITS.maxPromptChars).optional(),
    model: z.string().min(1).max(128).optional().openapi({ example: 'shapes-mmdit-s' }),
    width: z.int().min(8).max(LIMITS.maxSide).optional(),
    height: z.int().min(8).max(LIMITS.maxSide).optional(),
    aspect_ratio: z
      .string()
      .regex(/^\d{1,2}:\d{1,2}$/)
      .optional()
      .openapi({
        example: '3:2',
        description: 'Instead of width/height: one of the model’s ratios.',
      }),
    steps: z.int().min(1).max(LIMITS.maxSteps).optional(),
    guidance_scale: z.number().min(0).max(LIMITS.maxGuidanceScale).optional(),
    sampler: z.enum(SAMPLER_NAMES).optional(),
    seed: z.int().min(0).max(MAX_SEED).optional(),
    num_images: z.int().min(1).max(MAX_IMAGES_PER_REQUEST).optional(),
    output_format: z.enum(OUTPUT_FORMATS).optional(),
    webhook: WebhookRequest.optional(),
    metadata: Metadata.optional(),
    // Video models only (no examples: the document's sample request is for the image model).
    frames: z.int().min(1).max(VIDEO_LIMITS.maxFrames).optional().openapi({
      description:
        'Video: frames per clip, within the model’s range and a multiple of its step (GET /v1/models). Or `duration_seconds`.',
    }),
    duration_seconds: z.number().positive().max(VIDEO_LIMITS.maxSeconds).optional().openapi({
      description:
        'Video: clip length; frames = duration × fps, rounded to the nearest count the model allows.',
    }),
    fps: z.number().positive().max(VIDEO_LIMITS.maxFps).optional().openapi({
      description: 'Video: must equal the model’s fps (its motion is learnt at that rate).',
    }),
    init_image: z.string().min(1).max(VIDEO_LIMITS.maxInitImageChars).optional().openapi({
      description:
        'Video, image-to-video: the first frame, a PNG, JPEG or WebP as base64 or a `data:image/…;base64,` URL.',
    }),
    extend: z.string().regex(GENERATION_ID).optional().openapi({
      description: 'Video: continue this succeeded video generation of the same model.',
    }),
    extend_clip: z
      .int()
      .min(0)
      .max(MAX_IMAGES_PER_REQUEST - 1)
      .optional()
      .openapi({ description: 'With `extend`: which of its clips (default 0).' }),
  })
  .openapi('GenerationCreate');

export type GenerationCreateBody = z.infer<typeof GenerationCreate>;

const FileView = z
  .object({ url: z.string(), expires_at: z.string(), content_type: z.string(), bytes: z.int() })
  .openapi('OutputFile');

const Output = z
  .object({
    index: z.int(),
    url: z
      .string()
      .openapi({ description: 'For a clip: its MP4, or its WebP where there is none.' }),
    expires_at: z.string(),
    content_type: z.string(),
    bytes: z.int(),
    width: z.int(),
    height: z.int(),
    seed: z.int(),
    video: z
      .object({
        frames: z.int(),
        fps: z.number(),
        duration_seconds: z.number(),
        mp4: FileView.optional().openapi({ description: 'Absent without an H.264 encoder.' }),
        webp: FileView,
        thumbnail: FileView,
        note: z.string().optional().openapi({ description: 'Why the MP4 is missing.' }),
      })
      .optional()
      .openapi({ description: 'Video generations: the clip’s files.' }),
  })
  .openapi('GenerationOutput');

export const Generation = z
  .object({
    id: z.string(),
    object: z.literal('generation'),
    status: z.enum(JOB_STATUSES),
    model: z.string(),
    modality: z.enum(['image', 'video']),
    input: z.object({
      prompt: z.string(),
      negative_prompt: z.string(),
      width: z.int(),
      height: z.int(),
      steps: z.int(),
      guidance_scale: z.number(),
      sampler: z.string(),
      seed: z.int(),
      num_images: z.int(),
      output_format: z.enum(OUTPUT_FORMATS),
      frames: z.int().optional(),
      fps: z.number().optional(),
      duration_seconds: z.number().optional(),
      image_to_video: z.boolean().optional(),
      extend: z.string().optional(),
      extend_clip: z.int().optional(),
    }),
    queue_position: z.int().optional().openapi({ description: 'While queued: 1 = next.' }),
    progress: z.object({ step: z.int(), total: z.int(), percent: z.number() }).optional(),
    timings: z.object({
      created_at: z.string(),
      started_at: z.string().optional(),
      completed_at: z.string().optional(),
      queue_ms: z.int().optional(),
      inference_ms: z.int().optional(),
    }),
    outputs: z.array(Output),
    error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
    cancel_requested: z.boolean().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    webhook: z.object({ url: z.string(), events: z.array(z.string()).optional() }).optional(),
    warnings: z.array(z.string()).optional(),
    links: z.object({ self: z.string(), cancel: z.string(), events: z.string() }),
  })
  .openapi('Generation');

export type GenerationView = z.infer<typeof Generation>;

export const GenerationList = z
  .object({
    object: z.literal('list'),
    data: z.array(Generation),
    has_more: z.boolean(),
    next_cursor: z.string().optional(),
  })
  .openapi('GenerationList');

export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(512).optional(),
  status: z.enum(JOB_STATUSES).optional(),
});

export const IdParam = z.object({
  id: z
    .string()
    .regex(GENERATION_ID)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B' }),
});
