import { createRoute, type z } from '@hono/zod-openapi';
import { Buffer } from 'node:buffer';
import type { Context } from 'hono';
import type { GenerationJob, StoredFile } from '../../../core/generation.ts';
import { isTerminal } from '../../../core/job.ts';
import type { ModelCatalog } from '../../../core/model-catalog.ts';
import { JobNotFoundError } from '../../../core/ports/job-store.ts';
import { updateJob } from '../../../core/jobs/update-job.ts';
import { JobNotTerminalError } from '../../../core/webhooks/outbox.ts';
import { ReferencedGenerationError, ValidationError } from '../errors.ts';
import type { ApiEnv } from '../hono-env.ts';
import { createRouter, notFoundHook } from '../router.ts';
import type { GenerationCreateBody } from '../schemas/generation.ts';
import {
  OpenAiVideo,
  OpenAiVideoCreate,
  OpenAiVideoDeleted,
  OpenAiVideoExtend,
  OpenAiVideoList,
  VideoContentQuery,
  VideoIdParam,
  VideoListQuery,
} from '../schemas/openai-video.ts';
import { BODY_ERRORS, COMMON_ERRORS, CONFLICT, NOT_FOUND, json } from '../schemas/problem.ts';
import { TAG } from '../schemas/tags.ts';
import { fieldProblems } from '../schemas/zod-problems.ts';
import { readFields, type Fields } from '../services/form-body.ts';
import { toOpenAiVideo } from '../services/openai-video-view.ts';
import { submitGeneration } from '../services/submit.ts';
import { isDeleted, visibleJob } from '../services/visible-job.ts';

const EXAMPLE: z.input<typeof OpenAiVideo> = {
  id: 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B',
  object: 'video',
  status: 'queued',
  progress: 0,
  model: 'shapes-video-s',
  prompt: 'a red circle moving left',
  seconds: '2',
  size: '128x128',
  created_at: 1767607200,
  completed_at: null,
  expires_at: null,
  error: null,
  remixed_from_video_id: null,
};

/** The multipart body as the document shows it (zod cannot describe an uploaded file). */
const FORM_BODY = {
  type: 'object' as const,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string' as const },
    model: { type: 'string' as const },
    seconds: { type: 'string' as const, example: '2' },
    size: { type: 'string' as const, example: '128x128' },
    input_reference: { type: 'string' as const, format: 'binary' },
    seed: { type: 'integer' as const },
    steps: { type: 'integer' as const },
    guidance_scale: { type: 'number' as const },
    negative_prompt: { type: 'string' as const },
  },
};

const CREATE_EXAMPLE = { prompt: 'a red circle moving left', seconds: '2', size: '128x128' };

const create = createRoute({
  method: 'post',
  path: '/v1/videos',
  tags: [TAG.openai],
  operationId: 'createVideoOpenAi',
  summary: 'OpenAI-compatible video generation (queued; follow it with GET)',
  request: {
    body: {
      required: true,
      content: {
        'multipart/form-data': { schema: FORM_BODY, example: CREATE_EXAMPLE },
        'application/json': { schema: FORM_BODY, example: CREATE_EXAMPLE },
      },
    },
  },
  responses: {
    200: json(OpenAiVideo, 'The queued video.', EXAMPLE),
    ...BODY_ERRORS,
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

const extend = createRoute({
  method: 'post',
  path: '/v1/videos/extensions',
  tags: [TAG.openai],
  operationId: 'extendVideoOpenAi',
  summary: 'OpenAI-compatible extension of a completed video (its new part)',
  request: {
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['prompt', 'video'],
            properties: {
              prompt: { type: 'string' },
              seconds: { type: 'string' },
              'video[id]': { type: 'string' },
            },
          },
          example: { prompt: 'it keeps moving left', seconds: '2', 'video[id]': EXAMPLE.id },
        },
      },
    },
  },
  responses: {
    200: json(OpenAiVideo, 'The queued extension.', EXAMPLE),
    ...BODY_ERRORS,
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

const retrieve = createRoute({
  method: 'get',
  path: '/v1/videos/{id}',
  tags: [TAG.openai],
  operationId: 'getVideoOpenAi',
  summary: 'OpenAI-compatible: a video',
  request: { params: VideoIdParam },
  responses: { 200: json(OpenAiVideo, 'The video.', EXAMPLE), ...COMMON_ERRORS, ...NOT_FOUND },
});

const list = createRoute({
  method: 'get',
  path: '/v1/videos',
  tags: [TAG.openai],
  operationId: 'listVideosOpenAi',
  summary: 'OpenAI-compatible: your videos, newest first',
  request: { query: VideoListQuery },
  responses: {
    200: json(OpenAiVideoList, 'One page; pass `last_id` as `after` for the next.', {
      object: 'list',
      data: [EXAMPLE],
      first_id: EXAMPLE.id,
      last_id: EXAMPLE.id,
      has_more: false,
    }),
    422: BODY_ERRORS[422],
    ...COMMON_ERRORS,
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/videos/{id}',
  tags: [TAG.openai],
  operationId: 'deleteVideoOpenAi',
  summary: 'OpenAI-compatible: delete a finished video and its files',
  request: { params: VideoIdParam },
  responses: {
    200: json(OpenAiVideoDeleted, 'Deleted.', {
      id: EXAMPLE.id,
      object: 'video.deleted',
      deleted: true,
    }),
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

const binary = { schema: { type: 'string' as const, format: 'binary' } };
const content = createRoute({
  method: 'get',
  path: '/v1/videos/{id}/content',
  tags: [TAG.openai],
  operationId: 'downloadVideoOpenAi',
  summary: 'OpenAI-compatible: the MP4, the thumbnail or the animated WebP of a video',
  request: { params: VideoIdParam, query: VideoContentQuery },
  responses: {
    200: {
      description:
        'The file. `variant=video` is the MP4, or the animated WebP (image/webp, with `x-ditserve-note`) where the worker had no H.264 encoder.',
      content: { 'video/mp4': binary, 'image/webp': binary, 'image/png': binary },
    },
    422: BODY_ERRORS[422],
    ...COMMON_ERRORS,
    ...NOT_FOUND,
    ...CONFLICT,
  },
});

/** ditserve's field names → OpenAI's, so that a 422 points at what the client sent. */
const OPENAI_FIELD: Readonly<Record<string, string>> = {
  width: 'size',
  height: 'size',
  aspect_ratio: 'size',
  frames: 'seconds',
  duration_seconds: 'seconds',
  init_image: 'input_reference',
  extend: 'video',
  extend_clip: 'video',
};

async function inOpenAiFields<T>(submit: () => Promise<T>): Promise<T> {
  try {
    return await submit();
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ValidationError(
        error.problems.map((p) => ({ ...p, field: OPENAI_FIELD[p.field] ?? p.field })),
        error.code,
      );
    }
    if (error instanceof ReferencedGenerationError) {
      throw new ReferencedGenerationError(
        error.code,
        error.message,
        OPENAI_FIELD[error.field] ?? error.field,
        error.allowed,
      );
    }
    throw error;
  }
}

/** The model asked for, which must make video; without one, the default model or else the first video model. */
function videoModel(models: ModelCatalog, id: string | undefined): string {
  const videos = models.list().filter((m) => m.video);
  const ids = videos.map((m) => m.id).join(', ');
  if (id === undefined) {
    const chosen = videos.find((m) => m.id === models.defaultModel) ?? videos[0];
    if (!chosen) {
      throw ValidationError.field('model', 'this deployment serves no video model', 'none');
    }
    return chosen.id;
  }
  if (!videos.some((m) => m.id === id)) {
    throw ValidationError.field(
      'model',
      `"${id}" is not a video model here`,
      ids ? `one of ${ids}` : 'none: this deployment serves no video model',
    );
  }
  return id;
}

function parse<S extends z.ZodType>(schema: S, fields: Fields): z.infer<S> {
  const parsed = schema.safeParse(fields);
  if (!parsed.success) throw new ValidationError(fieldProblems(parsed.error, schema));
  return parsed.data;
}

/** `input_reference` as the base64 `init_image` the generation takes (decoded and checked there). */
async function initImageOf(
  reference: z.infer<typeof OpenAiVideoCreate>['input_reference'],
): Promise<string | undefined> {
  if (reference === undefined) return undefined;
  if (reference instanceof File)
    return Buffer.from(await reference.arrayBuffer()).toString('base64');
  if (reference.file_id !== undefined) {
    throw ValidationError.field(
      'input_reference',
      'file ids are not supported here',
      'an uploaded image file, or { image_url } as a base64 data URL',
    );
  }
  if (!reference.image_url?.startsWith('data:')) {
    // Fetching a client's URL from the API would let anyone make it call any address.
    throw ValidationError.field(
      'input_reference',
      'image_url must be a data URL (URLs are not fetched)',
      'a data:image/png|jpeg|webp;base64, URL',
    );
  }
  return reference.image_url;
}

const extras = (body: {
  negative_prompt?: string | undefined;
  seed?: number | undefined;
  steps?: number | undefined;
  guidance_scale?: number | undefined;
}) => ({
  negative_prompt: body.negative_prompt,
  seed: body.seed,
  steps: body.steps,
  guidance_scale: body.guidance_scale,
});

function sizeOf(size: string | undefined) {
  if (size === undefined) return {};
  const [width, height] = size.split('x').map(Number);
  return { width, height };
}

async function submitVideo(c: Context<ApiEnv>, body: GenerationCreateBody) {
  const { deps, limits } = c.var;
  const { job } = await inOpenAiFields(() =>
    submitGeneration(
      deps,
      limits,
      { tenant: c.var.tenant, keyId: c.var.keyId, requestId: c.var.requestId },
      body,
      c.req.header('idempotency-key'),
      deps.now?.() ?? new Date(),
    ),
  );
  return toOpenAiVideo(job);
}

/** A video generation of the tenant (an image generation's id is no video: 404). */
async function videoJob(c: Context<ApiEnv>, id: string): Promise<GenerationJob> {
  const job = await visibleJob(c.var.deps.jobs, c.var.tenant, id);
  if (job.data.params.modality !== 'video') throw new JobNotFoundError(`no video ${id}`);
  return job;
}

export function videosRoutes() {
  const app = createRouter();

  app.openapi(create, async (c) => {
    const fields = await readFields(c.req.raw, c.var.limits.maxBodyBytes);
    const body = parse(OpenAiVideoCreate, fields);
    const model = videoModel(c.var.deps.models, body.model);
    const video = await submitVideo(c, {
      prompt: body.prompt,
      model,
      ...sizeOf(body.size),
      duration_seconds: body.seconds === undefined ? undefined : Number(body.seconds),
      init_image: await initImageOf(body.input_reference),
      ...extras(body),
    });
    return c.json(video, 200);
  });

  app.openapi(extend, async (c) => {
    const fields = await readFields(c.req.raw, c.var.limits.maxBodyBytes);
    const body = parse(OpenAiVideoExtend, fields);
    if (body.video instanceof File) {
      throw ValidationError.field(
        'video',
        'extending an uploaded video is not supported',
        'video[id]: the id of one of your completed videos',
      );
    }
    const id = body.video.id;
    // The extension is made by its source's model; a missing source is reported by the check.
    const source = await visibleJob(c.var.deps.jobs, c.var.tenant, id).catch((error: unknown) => {
      if (error instanceof JobNotFoundError) return undefined;
      throw error;
    });
    const model =
      source?.data.params.modality === 'video'
        ? source.data.params.model
        : videoModel(c.var.deps.models, undefined);
    const video = await submitVideo(c, {
      prompt: body.prompt,
      model,
      duration_seconds: body.seconds === undefined ? undefined : Number(body.seconds),
      extend: id,
      ...extras(body),
    });
    return c.json(video, 200);
  });

  app.openapi(
    retrieve,
    async (c) => c.json(toOpenAiVideo(await videoJob(c, c.req.valid('param').id)), 200),
    notFoundHook,
  );

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const { jobs } = c.var.deps;
    const limit = q.limit ?? 20;
    let after: GenerationJob | undefined;
    if (q.after !== undefined) {
      after = await visibleJob(jobs, c.var.tenant, q.after).catch((error: unknown) => {
        if (!(error instanceof JobNotFoundError)) throw error;
        throw ValidationError.field('after', `no video ${q.after}`, 'the id of one of your videos');
      });
    }
    // The store lists all generations: read on until the page has its videos (and one more).
    const found: GenerationJob[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await jobs.list<GenerationJob['data']>(c.var.tenant, {
        limit: 100,
        ...(cursor ? { cursor } : { after }),
      });
      for (const job of page.jobs) {
        if (job.data.params.modality === 'video' && !isDeleted(job)) found.push(job);
      }
      cursor = page.nextCursor;
      if (found.length > limit || cursor === undefined) break;
    }
    const data = found.slice(0, limit).map(toOpenAiVideo);
    return c.json(
      {
        object: 'list' as const,
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: found.length > limit,
      },
      200,
    );
  });

  app.openapi(
    remove,
    async (c) => {
      const { deps } = c.var;
      const job = await videoJob(c, c.req.valid('param').id);
      if (!isTerminal(job.status)) {
        throw new JobNotTerminalError(
          `video ${job.id} is ${job.status}; cancel it first (POST /v1/generations/${job.id}/cancel)`,
        );
      }
      const now = (deps.now?.() ?? new Date()).toISOString();
      // The record first: once it is a tombstone nothing links to the files, which go next (any
      // left behind expire with the bucket's output rule).
      await updateJob(deps.jobs, job.tenant, job.id, (current) =>
        isDeleted(current) ? undefined : { ...current, data: { ...current.data, deletedAt: now } },
      );
      const p = job.data.params;
      const keys = new Set<string>();
      for (const o of job.data.outputs ?? []) {
        keys.add(o.key);
        for (const f of [o.video?.mp4, o.video?.webp, o.video?.thumbnail]) if (f) keys.add(f.key);
      }
      if (p.modality === 'video' && p.initImageKey) keys.add(p.initImageKey);
      const results = await Promise.allSettled([...keys].map((k) => deps.blobs.delete(k)));
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed) deps.logger?.warn('video files left to expire', { jobId: job.id, failed });
      return c.json({ id: job.id, object: 'video.deleted' as const, deleted: true }, 200);
    },
    notFoundHook,
  );

  app.openapi(
    content,
    async (c) => {
      const job = await videoJob(c, c.req.valid('param').id);
      const clip = job.data.outputs?.[0]?.video;
      if (job.status !== 'succeeded' || !clip) {
        throw new ReferencedGenerationError(
          'generation_not_succeeded',
          `video ${job.id} is ${job.status}; its content exists once it has completed`,
          'id',
          'a completed video',
        );
      }
      const variant = c.req.valid('query').variant ?? 'video';
      const file: StoredFile =
        variant === 'thumbnail'
          ? clip.thumbnail
          : variant === 'webp'
            ? clip.webp
            : (clip.mp4 ?? clip.webp);
      if (variant === 'video' && !clip.mp4 && clip.note) c.header('x-ditserve-note', clip.note);
      const blob = await c.var.deps.blobs.get(file.key);
      c.header('content-type', file.contentType);
      c.header('content-length', String(blob.bytes.byteLength));
      return c.body(new Uint8Array(blob.bytes), 200);
    },
    (result) => {
      if (result.success) return undefined;
      // A malformed id names no video (404, as elsewhere); a wrong variant is the client's 422.
      if (result.target === 'param') throw new JobNotFoundError('no such video');
      throw new ValidationError(fieldProblems(result.error, VideoContentQuery));
    },
  );

  return app;
}
