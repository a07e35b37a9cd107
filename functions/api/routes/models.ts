import { createRoute, z } from '@hono/zod-openapi';
import { modalityOf, UnknownModelError, type ModelInfo } from '../../../core/model-catalog.ts';
import { createRouter } from '../router.ts';
import { OUTPUT_FORMATS } from '../schemas/generation.ts';
import { Model, ModelList } from '../schemas/model.ts';
import { COMMON_ERRORS, NOT_FOUND, json } from '../schemas/problem.ts';
import { MODEL_EXAMPLE } from '../schemas/examples.ts';
import { TAG } from '../schemas/tags.ts';

function modelView(m: ModelInfo): z.infer<typeof Model> {
  const v = m.video;
  return {
    id: m.id,
    object: 'model',
    version: m.version,
    description: m.description,
    modality: modalityOf(m),
    defaults: {
      width: m.defaults.width,
      height: m.defaults.height,
      steps: m.defaults.steps,
      guidance_scale: m.defaults.guidanceScale,
      sampler: m.defaults.sampler,
      ...(v ? { frames: v.defaultFrames } : { output_format: 'png' }),
    },
    sizes: m.sizes.map(([w, h]) => `${w}x${h}`),
    aspect_ratios: Object.fromEntries(
      Object.entries(m.aspectRatios).map(([r, [w, h]]) => [r, `${w}x${h}`]),
    ),
    samplers: [...m.samplers],
    output_formats: v ? [] : [...OUTPUT_FORMATS],
    limits: {
      steps: { min: m.limits.minSteps, max: m.limits.maxSteps },
      guidance_scale: { min: 0, max: m.limits.maxGuidanceScale },
      prompt_chars: m.limits.maxPromptChars,
      prompt_tokens: m.limits.maxPromptTokens,
      num_images: { min: 1, max: m.limits.maxImages },
    },
    vocabulary: Object.fromEntries(Object.entries(m.vocabulary).map(([k, w]) => [k, [...w]])),
    video: v && {
      frames: { min: v.frames.min, max: v.frames.max, multiple_of: v.frames.multipleOf },
      fps: v.fps,
      image_to_video: v.imageToVideo,
      extend: v.extend,
      extend_context_frames: v.extendContextFrames,
      files: ['mp4', 'webp', 'png'],
    },
  };
}

const list = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: [TAG.models],
  operationId: 'listModels',
  summary: 'Models you can ask for, with their limits and defaults',
  responses: {
    200: json(ModelList, 'All models.', { object: 'list', data: [MODEL_EXAMPLE] }),
    ...COMMON_ERRORS,
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/models/{id}',
  tags: [TAG.models],
  operationId: 'getModel',
  summary: 'One model',
  request: {
    params: z.object({
      id: z
        .string()
        .max(128)
        .openapi({ param: { name: 'id', in: 'path' }, example: 'shapes-mmdit-s' }),
    }),
  },
  responses: {
    200: json(Model, 'The model.', MODEL_EXAMPLE),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
  },
});

export function modelsRoutes() {
  const app = createRouter();
  app.openapi(list, (c) =>
    c.json({ object: 'list' as const, data: c.var.deps.models.list().map(modelView) }, 200),
  );
  app.openapi(get, (c) => {
    const id = c.req.valid('param').id;
    const model = c.var.deps.models.list().find((m) => m.id === id);
    if (!model) {
      throw new UnknownModelError(
        `no model "${id}"; available: ${c.var.deps.models
          .list()
          .map((m) => m.id)
          .join(', ')}`,
      );
    }
    return c.json(modelView(model), 200);
  });
  return app;
}
