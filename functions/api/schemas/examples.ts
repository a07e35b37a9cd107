import type { z } from '@hono/zod-openapi';
import type { Generation, GenerationCreate } from './generation.ts';
import type { Model } from './model.ts';
import type { OpenAiImageRequest, OpenAiImagesResponse } from './openai.ts';
import type { ProblemSchema } from './problem.ts';

/**
 * Examples for the OpenAPI document, typed by the schemas they illustrate (and checked against
 * them by tests/api/openapi.test.ts), so they cannot drift from what the API says.
 */

const ID = 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B';
const BASE = 'https://ditserve.example.com';
const SELF = `${BASE}/v1/generations/${ID}`;

export const CREATE_EXAMPLE: z.input<typeof GenerationCreate> = {
  prompt: 'a red circle left of a blue square',
  model: 'shapes-mmdit-s',
  width: 128,
  height: 128,
  steps: 28,
  guidance_scale: 4,
  seed: 42,
  num_images: 1,
};

const INPUT = {
  prompt: 'a red circle left of a blue square',
  negative_prompt: '',
  width: 128,
  height: 128,
  steps: 28,
  guidance_scale: 4,
  sampler: 'euler',
  seed: 42,
  num_images: 1,
  output_format: 'png',
} as const;

const LINKS = { self: SELF, cancel: `${SELF}/cancel`, events: `${SELF}/events` };

export const QUEUED_EXAMPLE: z.input<typeof Generation> = {
  id: ID,
  object: 'generation',
  status: 'queued',
  model: 'shapes-mmdit-s',
  modality: 'image',
  input: INPUT,
  queue_position: 1,
  timings: { created_at: '2026-01-05T10:00:00.000Z' },
  outputs: [],
  links: LINKS,
};

export const RUNNING_EXAMPLE: z.input<typeof Generation> = {
  ...QUEUED_EXAMPLE,
  status: 'running',
  queue_position: undefined,
  progress: { step: 14, total: 28, percent: 50 },
  timings: {
    created_at: '2026-01-05T10:00:00.000Z',
    started_at: '2026-01-05T10:00:00.210Z',
    queue_ms: 210,
  },
};

export const SUCCEEDED_EXAMPLE: z.input<typeof Generation> = {
  ...QUEUED_EXAMPLE,
  status: 'succeeded',
  queue_position: undefined,
  timings: {
    created_at: '2026-01-05T10:00:00.000Z',
    started_at: '2026-01-05T10:00:00.210Z',
    completed_at: '2026-01-05T10:00:01.530Z',
    queue_ms: 210,
    inference_ms: 1290,
  },
  outputs: [
    {
      index: 0,
      url: `${BASE}/v1/files/jobs/tenant/${ID}/out/0.png?expires=1767610801&sig=…`,
      expires_at: '2026-01-05T11:00:01.000Z',
      content_type: 'image/png',
      bytes: 2315,
      width: 128,
      height: 128,
      seed: 42,
    },
  ],
};

export const CANCELED_EXAMPLE: z.input<typeof Generation> = {
  ...QUEUED_EXAMPLE,
  status: 'canceled',
  queue_position: undefined,
  timings: { created_at: '2026-01-05T10:00:00.000Z', completed_at: '2026-01-05T10:00:00.400Z' },
};

export const EVENTS_EXAMPLE = [
  `event: status\nid: 1\ndata: ${JSON.stringify(RUNNING_EXAMPLE)}\n`,
  `event: progress\nid: 2\ndata: ${JSON.stringify({ ...RUNNING_EXAMPLE, progress: { step: 28, total: 28, percent: 100 } })}\n`,
  `event: status\nid: 3\ndata: ${JSON.stringify(SUCCEEDED_EXAMPLE)}\n`,
  `event: done\nid: 4\ndata: ${JSON.stringify(SUCCEEDED_EXAMPLE)}\n`,
].join('\n');

export const MODEL_EXAMPLE: z.input<typeof Model> = {
  id: 'shapes-mmdit-s',
  object: 'model',
  version: '1.0.0',
  description:
    "SD3-style MMDiT trained from scratch on procedural shapes scenes (ditserve's embedded default).",
  modality: 'image',
  defaults: {
    width: 128,
    height: 128,
    steps: 48,
    guidance_scale: 4.5,
    sampler: 'euler',
    output_format: 'png',
  },
  sizes: ['128x128', '192x128', '128x192'],
  aspect_ratios: { '1:1': '128x128', '3:2': '192x128', '2:3': '128x192' },
  samplers: ['euler', 'heun'],
  output_formats: ['png', 'webp', 'jpeg'],
  limits: {
    steps: { min: 1, max: 100 },
    guidance_scale: { min: 0, max: 20 },
    prompt_chars: 2000,
    prompt_tokens: 30,
    num_images: { min: 1, max: 4 },
  },
  vocabulary: { shapes: ['circle', 'square', 'triangle'], colors: ['red', 'orange', 'yellow'] },
};

export const PROBLEM_EXAMPLE: z.input<typeof ProblemSchema> = {
  type: 'https://ditserve.dev/problems/invalid_request',
  title: 'The request does not follow the API contract',
  status: 422,
  detail: 'steps: must be at most 100 for model shapes-mmdit-s',
  code: 'invalid_request',
  request_id: '5d1c9a4e-8b1f-4f5e-9a77-0c3f2b6d8e10',
  errors: [
    {
      field: 'steps',
      message: 'must be at most 100 for model shapes-mmdit-s',
      allowed: '1–100',
    },
  ],
};

export const OPENAI_REQUEST_EXAMPLE: z.input<typeof OpenAiImageRequest> = {
  prompt: 'two yellow stars',
  n: 1,
  size: '128x128',
  response_format: 'b64_json',
  seed: 7,
};

export const OPENAI_RESPONSE_EXAMPLE: z.input<typeof OpenAiImagesResponse> = {
  created: 1767607200,
  data: [{ b64_json: 'iVBORw0KGgoAAAANSUhEUgAA…' }],
  output_format: 'png',
  size: '128x128',
};
