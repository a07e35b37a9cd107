import { createRoute } from '@hono/zod-openapi';
import { Buffer } from 'node:buffer';
import type { GenerationJob } from '../../../core/generation.ts';
import { isTerminal } from '../../../core/job.ts';
import type { DitserveError } from '../../../core/errors.ts';
import { GenerationEndedError, ValidationError } from '../errors.ts';
import { createRouter, validationHook } from '../router.ts';
import { OpenAiImageRequest, OpenAiImagesResponse } from '../schemas/openai.ts';
import { BODY_ERRORS, COMMON_ERRORS, json } from '../schemas/problem.ts';
import { OPENAI_REQUEST_EXAMPLE, OPENAI_RESPONSE_EXAMPLE } from '../schemas/examples.ts';
import { TAG } from '../schemas/tags.ts';
import { submitGeneration } from '../services/submit.ts';
import { waitForJob, waitSignal } from '../services/wait-for-job.ts';

const route = createRoute({
  method: 'post',
  path: '/v1/images/generations',
  tags: [TAG.openai],
  operationId: 'createImageOpenAi',
  summary: 'OpenAI-compatible image generation (synchronous)',
  description:
    'Accepts the OpenAI Images API body; `seed`, `steps`, `guidance_scale` and `negative_prompt` are ditserve extras.',
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: OpenAiImageRequest, example: OPENAI_REQUEST_EXAMPLE },
      },
    },
  },
  responses: {
    200: json(OpenAiImagesResponse, 'The images.', OPENAI_RESPONSE_EXAMPLE),
    ...BODY_ERRORS,
    ...COMMON_ERRORS,
  },
});

function sizeOf(size: string | undefined): {
  width?: number | undefined;
  height?: number | undefined;
} {
  if (!size || size === 'auto') return {};
  const [w, h] = size.split('x').map(Number);
  return { width: w, height: h };
}

function failure(job: GenerationJob): DitserveError {
  if (job.status === 'canceled')
    return new GenerationEndedError('generation_canceled', `generation ${job.id} was canceled`);
  if (job.status === 'expired')
    return new GenerationEndedError('wait_timeout', `generation ${job.id} expired in the queue`);
  if (job.status === 'failed') {
    return new GenerationEndedError(
      'generation_failed',
      `generation ${job.id} failed: ${job.data.error?.message ?? 'unknown error'}`,
    );
  }
  return new GenerationEndedError(
    'wait_timeout',
    `generation ${job.id} did not finish in time; follow it at GET /v1/generations/${job.id}`,
  );
}

/** Native field names → the OpenAI body's, so 422s point at what the client sent. */
const OPENAI_FIELD: Readonly<Record<string, string>> = {
  width: 'size',
  height: 'size',
  num_images: 'n',
  'metadata.user': 'user',
};

async function openAiFields<T>(usedGuidance: boolean, submit: () => Promise<T>): Promise<T> {
  try {
    return await submit();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.problems.map((p) => ({
        ...p,
        field:
          p.field === 'guidance_scale' && usedGuidance
            ? 'guidance'
            : (OPENAI_FIELD[p.field] ?? p.field),
      })),
    );
  }
}

export function imagesRoutes() {
  const app = createRouter();
  app.openapi(
    route,
    async (c) => {
      const body = c.req.valid('json');
      const { deps, limits } = c.var;
      if (body.guidance !== undefined && body.guidance_scale !== undefined) {
        throw ValidationError.field(
          'guidance',
          'give guidance or guidance_scale, not both',
          'one of them',
        );
      }
      const { job } = await openAiFields(body.guidance !== undefined, () =>
        submitGeneration(
          deps,
          limits,
          { tenant: c.var.tenant, keyId: c.var.keyId, requestId: c.var.requestId },
          {
            prompt: body.prompt,
            negative_prompt: body.negative_prompt,
            model:
              body.model && deps.models.list().some((m) => m.id === body.model)
                ? body.model
                : undefined,
            ...sizeOf(body.size),
            steps: body.steps,
            guidance_scale: body.guidance_scale ?? body.guidance,
            seed: body.seed,
            num_images: body.n,
            output_format: body.output_format,
            metadata: body.user ? { user: body.user } : undefined,
          },
          c.req.header('idempotency-key'),
          deps.now?.() ?? new Date(),
        ),
      );
      const until = waitSignal(c.req.raw.signal, deps.shutdown);
      const done = await waitForJob(deps.jobs, job.tenant, job.id, {
        intervalMs: deps.pollIntervalMs ?? 250,
        deadline: Date.now() + limits.maxWaitSeconds * 1000,
        signal: until.signal,
      }).finally(() => {
        until.release();
      });
      if (!isTerminal(done.status) || done.status !== 'succeeded') throw failure(done);
      const outputs = done.data.outputs ?? [];
      const data = await Promise.all(
        outputs.map(async (o) =>
          // OpenAI's current image models answer b64_json unless asked for URLs (and the SDK
          // marks response_format as legacy), so b64_json is the default here too.
          (body.response_format ?? 'b64_json') === 'b64_json'
            ? { b64_json: Buffer.from((await deps.blobs.get(o.key)).bytes).toString('base64') }
            : { url: (await deps.blobs.signedUrl(o.key, limits.urlTtlSeconds)).url },
        ),
      );
      c.header('x-ditserve-generation-id', done.id);
      return c.json(
        {
          created: Math.floor(Date.parse(done.createdAt) / 1000),
          data,
          output_format: done.data.params.outputFormat,
          size: `${done.data.params.width}x${done.data.params.height}`,
        },
        200,
      );
    },
    validationHook(OpenAiImageRequest),
  );
  return app;
}
