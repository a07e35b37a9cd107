import { describe, expect, it } from 'vitest';
import type { JobMessage } from '../../core/generation.ts';
import { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { makeApi } from './harness.ts';
import { bind, expectProblem, fieldProblem, instantWorkerQueue, VALID } from './support.ts';

const GEN = '/v1/generations';

describe('401 unauthorized', () => {
  it.each([
    ['no Authorization header', {}],
    ['another scheme', { authorization: 'Basic YWxpY2U6c2VjcmV0' }],
    ['a malformed key', { authorization: 'Bearer not-a-key' }],
    [
      'a well-formed key nobody issued',
      { authorization: `Bearer dsk_0123456789ab_${'A'.repeat(43)}` },
    ],
  ])('for %s, with WWW-Authenticate', async (_, headers) => {
    const api = await makeApi();
    const response = await api.call(undefined, 'GET', GEN, undefined, headers);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(response, 401, 'unauthorized');
  });

  it('for a revoked key', async () => {
    const api = await makeApi();
    const issued = await issueApiKey(api.keys, 'tenant-alice', 'soon revoked');
    await api.keys.revokeKey(issued.record.id, new Date());
    await expectProblem(await api.call(issued.key, 'GET', GEN), 401, 'unauthorized');
  });

  it('for a key whose secret part is wrong', async () => {
    const api = await makeApi();
    const forged = api.alice.slice(0, -4) + (api.alice.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await expectProblem(await api.call(forged, 'GET', GEN), 401, 'unauthorized');
  });

  it('on every tenant route, before anything else is looked at', async () => {
    const api = await makeApi();
    for (const [method, path] of [
      ['GET', GEN],
      ['POST', GEN],
      ['GET', `${GEN}/gen_01ABC`],
      ['POST', `${GEN}/gen_01ABC/cancel`],
      ['GET', `${GEN}/gen_01ABC/events`],
      ['POST', '/v1/images/generations'],
      ['GET', '/v1/models'],
      ['GET', '/v1/models/shapes-mmdit-s'],
    ] as const) {
      await expectProblem(await api.call(undefined, method, path), 401, 'unauthorized');
    }
  });
});

describe('404 and 405', () => {
  it('404 not_found for an unknown route', async () => {
    const api = await makeApi();
    await expectProblem(await api.call(api.alice, 'GET', '/v2/anything'), 404, 'not_found');
    await expectProblem(await api.call(undefined, 'GET', '/nope'), 404, 'not_found');
  });

  it('404 job_not_found for an unknown job, on every per-job route', async () => {
    const api = await makeApi();
    for (const id of ['gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B', 'not-an-id', 'gen_..']) {
      await expectProblem(await api.call(api.alice, 'GET', `${GEN}/${id}`), 404, 'job_not_found');
      await expectProblem(
        await api.call(api.alice, 'POST', `${GEN}/${id}/cancel`),
        404,
        'job_not_found',
      );
      await expectProblem(
        await api.call(api.alice, 'GET', `${GEN}/${id}/events`),
        404,
        'job_not_found',
      );
    }
  });

  it('404 model_not_found for an unknown model', async () => {
    const api = await makeApi();
    await expectProblem(
      await api.call(api.alice, 'GET', '/v1/models/dall-e-3'),
      404,
      'model_not_found',
    );
  });

  it('405 for a known path with the wrong method, with Allow listing the methods there', async () => {
    const api = await makeApi();
    for (const [key, method, path, allow] of [
      [api.alice, 'DELETE', GEN, 'GET, HEAD, POST'],
      [api.alice, 'PUT', `${GEN}/gen_01ABC`, 'GET, HEAD'],
      [api.alice, 'GET', `${GEN}/gen_01ABC/cancel`, 'POST'],
      [api.alice, 'PATCH', '/v1/webhooks/secret', 'GET, HEAD'],
      [undefined, 'POST', '/healthz', 'GET, HEAD'],
      // A key parameter that spans slashes matches as it does for the GET.
      [undefined, 'DELETE', '/v1/files/jobs/tenant-alice/gen_01ABC/out/0.png', 'GET, HEAD'],
    ] as const) {
      const response = await api.call(key, method, path);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow);
      await expectProblem(response, 405, 'method_not_allowed');
    }
  });

  it('no Allow header on a 404', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'GET', '/v2/anything');
    expect(response.headers.get('allow')).toBeNull();
    await expectProblem(response, 404, 'not_found');
  });
});

describe('409', () => {
  it('idempotency_conflict for a reused key with another body', async () => {
    const api = await makeApi();
    const headers = { 'idempotency-key': 'once' };
    expect((await api.call(api.alice, 'POST', GEN, VALID, headers)).status).toBe(202);
    await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VALID, steps: 3 }, headers),
      409,
      'idempotency_conflict',
    );
  });
});

describe('413, 415 and 400 on JSON bodies', () => {
  const paths = [GEN, '/v1/images/generations'];

  it.each(paths)('413 above maxBodyBytes with Content-Length (%s)', async (path) => {
    const api = await makeApi({ limits: { maxBodyBytes: 1000 } });
    const body = JSON.stringify({ prompt: 'x'.repeat(2000) });
    const problem = await expectProblem(
      await api.call(api.alice, 'POST', path, body, { 'content-length': String(body.length) }),
      413,
      'payload_too_large',
    );
    expect(problem.detail).toBe('the body is larger than 1000 bytes');
    // Without the header the bytes read decide.
    await expectProblem(await api.call(api.alice, 'POST', path, body), 413, 'payload_too_large');
  });

  it('takes a body within maxBodyBytes that declares its Content-Length', async () => {
    const api = await makeApi({ limits: { maxBodyBytes: 1000 } });
    const body = JSON.stringify(VALID);
    const response = await api.call(api.alice, 'POST', GEN, body, {
      'content-length': String(body.length),
    });
    expect(response.status).toBe(202);
  });

  it.each(paths)(
    '413 above maxBodyBytes when streamed without Content-Length (%s)',
    async (path) => {
      const api = await makeApi({ limits: { maxBodyBytes: 1000 } });
      const chunk = new TextEncoder().encode(`{"prompt":"${'x'.repeat(600)}`);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(chunk);
          controller.enqueue(chunk);
          controller.close();
        },
      });
      const response = await api.app.request(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.alice}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      });
      await expectProblem(response, 413, 'payload_too_large');
    },
  );

  it.each(paths)('415 for a non-JSON content type (%s)', async (path) => {
    const api = await makeApi();
    await expectProblem(
      await api.call(api.alice, 'POST', path, 'prompt=hi', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'unsupported_media_type',
    );
  });

  it('accepts JSON with a charset and +json types', async () => {
    const api = await makeApi();
    const a = await api.call(api.alice, 'POST', GEN, VALID, {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(a.status).toBe(202);
  });

  it.each(paths)('400 malformed_json for a body that does not parse (%s)', async (path) => {
    const api = await makeApi();
    await expectProblem(
      await api.call(api.alice, 'POST', path, '{"prompt": "a red'),
      400,
      'malformed_json',
    );
    await expectProblem(await api.call(api.alice, 'POST', path, ''), 400, 'malformed_json');
  });
});

describe('422 invalid_request, per field', () => {
  async function invalid(body: unknown, overrides: Parameters<typeof makeApi>[0] = {}) {
    const api = await makeApi(overrides);
    return expectProblem(await api.call(api.alice, 'POST', GEN, body), 422, 'invalid_request');
  }

  it('names an unknown field and lists the known ones', async () => {
    const p = fieldProblem(await invalid({ ...VALID, colour: 'red' }), 'colour');
    expect(p.message).toMatch(/not a known field/);
    expect(p.allowed).toMatch(/prompt/);
    expect(p.allowed).toMatch(/negative_prompt/);
  });

  it('names unknown nested fields with their path', async () => {
    const body = await invalid({ ...VALID, webhook: { url: 'https://example.com', secret: 's' } });
    expect(fieldProblem(body, 'webhook.secret').allowed).toMatch(/url, events/);
  });

  it('lists every problem at once', async () => {
    const body = await invalid({ prompt: 7, steps: 0, sampler: 'ddim' });
    expect(body.errors?.map((e) => e.field).sort()).toEqual(['prompt', 'sampler', 'steps']);
    expect(fieldProblem(body, 'sampler').allowed).toMatch(/"euler"/);
    expect(body.error?.param).toBeTruthy();
  });

  it('requires a prompt', async () => {
    expect(fieldProblem(await invalid({ steps: 4 }), 'prompt').message).toMatch(/required/);
  });

  it('refuses a non-object body', async () => {
    for (const body of ['[1]', 'null', '"prompt"', '42']) {
      const problems = await invalid(body);
      expect(problems.errors?.[0]?.message).toMatch(/object/);
    }
  });

  it('out-of-range steps, with the allowed range', async () => {
    expect(fieldProblem(await invalid({ ...VALID, steps: 500 }), 'steps').allowed).toMatch(/200/);
    // Within the schema's range but above this model's limit.
    expect(fieldProblem(await invalid({ ...VALID, steps: 150 }), 'steps').allowed).toBe(
      '1–100 for model shapes-mmdit-s',
    );
    expect(fieldProblem(await invalid({ ...VALID, steps: 2.5 }), 'steps').allowed).toBe(
      'an integer',
    );
  });

  it('a size the model was not trained for, listing the sizes it was', async () => {
    const p = fieldProblem(await invalid({ ...VALID, width: 512, height: 512 }), 'width');
    expect(p.allowed).toBe('one of 128x128, 192x128, 128x192');
    expect(fieldProblem(await invalid({ ...VALID, width: 128 }), 'height').message).toMatch(
      /required/,
    );
  });

  it('aspect_ratio with width, or an aspect ratio the model lacks', async () => {
    const both = await invalid({ ...VALID, aspect_ratio: '1:1', width: 128, height: 128 });
    expect(fieldProblem(both, 'aspect_ratio').allowed).toMatch(/either/);
    const unknown = await invalid({ ...VALID, aspect_ratio: '16:9' });
    expect(fieldProblem(unknown, 'aspect_ratio').allowed).toBe('one of 1:1, 3:2, 2:3');
  });

  it('an unknown model, naming the models there are', async () => {
    expect(fieldProblem(await invalid({ ...VALID, model: 'sdxl' }), 'model').allowed).toBe(
      'one of shapes-mmdit-s',
    );
  });

  it('a prompt with more tokens than the model reads', async () => {
    const p = fieldProblem(await invalid({ prompt: 'red circle '.repeat(20) }), 'prompt');
    expect(p.message).toMatch(/tokens/);
    expect(p.allowed).toMatch(/at most 30 tokens/);
  });

  it('a prompt longer than the character limit', async () => {
    const p = fieldProblem(await invalid({ prompt: 'a'.repeat(2001) }), 'prompt');
    expect(p.allowed).toMatch(/2000 characters/);
  });

  it('control characters in the prompt or negative prompt', async () => {
    const p = fieldProblem(await invalid({ prompt: 'a red\u0000 circle' }), 'prompt');
    expect(p.message).toMatch(/U\+0000/);
    expect(p.allowed).toMatch(/tab and newline are allowed/);
    const n = await invalid({ ...VALID, negative_prompt: 'blue \u001b[31m' });
    expect(fieldProblem(n, 'negative_prompt').message).toMatch(/U\+001B/);
    expect(fieldProblem(await invalid({ prompt: 'red\u0085' }), 'prompt').message).toMatch(
      /U\+0085/,
    );
  });

  it('a lone surrogate in the prompt', async () => {
    // JSON escapes can carry a lone surrogate that UTF-8 cannot.
    const p = fieldProblem(await invalid('{"prompt": "a red \\ud83d circle"}'), 'prompt');
    expect(p.message).toMatch(/surrogate/);
    expect(p.allowed).toBe('well-formed Unicode text');
  });

  it('an empty prompt after trimming', async () => {
    expect(fieldProblem(await invalid({ prompt: '   \n\t ' }), 'prompt').message).toMatch(/empty/);
  });

  it('a webhook URL that is not http(s)', async () => {
    const p = fieldProblem(
      await invalid({ ...VALID, webhook: { url: 'ftp://x.test/' } }),
      'webhook.url',
    );
    expect(p.allowed).toBeTruthy();
  });

  it('a webhook URL the deployment refuses (checkWebhookUrl): webhook_url_refused', async () => {
    const api = await makeApi({
      checkWebhookUrl: (url) =>
        new URL(url).hostname.startsWith('169.254.') ? 'a link-local address' : undefined,
    });
    const body = await expectProblem(
      await api.call(api.alice, 'POST', GEN, {
        ...VALID,
        webhook: { url: 'http://169.254.169.254/latest/meta-data' },
      }),
      422,
      'webhook_url_refused',
    );
    const p = fieldProblem(body, 'webhook.url');
    expect(p.message).toBe('a link-local address');
    expect(p.allowed).toBe('a public https URL');
    expect(
      (await api.call(api.alice, 'POST', GEN, { ...VALID, webhook: { url: 'https://a.test/' } }))
        .status,
    ).toBe(202);
  });

  it('seed + num_images beyond the largest seed', async () => {
    const p = fieldProblem(await invalid({ ...VALID, seed: 2 ** 53 - 2, num_images: 4 }), 'seed');
    expect(p.allowed).toMatch(/num_images 4/);
  });

  it('too much metadata', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expect(fieldProblem(await invalid({ ...VALID, metadata }), 'metadata').allowed).toBeDefined();
  });
});

describe('422 content_policy', () => {
  it('refuses a blocklisted word, however it is written', async () => {
    const api = await makeApi();
    for (const prompt of ['a nude circle', 'a ＮＳＦＷ square', 'GORE triangle']) {
      await expectProblem(
        await api.call(api.alice, 'POST', GEN, { prompt }),
        422,
        'content_policy',
      );
    }
    expect((await api.call(api.alice, 'POST', GEN, { prompt: 'a nudging circle' })).status).toBe(
      202,
    );
  });

  it('uses a pluggable policy', async () => {
    const api = await makeApi({
      promptPolicy: (prompt) =>
        prompt.includes('square') ? { allowed: false, reason: 'no squares' } : { allowed: true },
    });
    const body = await expectProblem(
      await api.call(api.alice, 'POST', GEN, VALID),
      422,
      'content_policy',
    );
    expect(body.detail).toBe('no squares');
    // The OpenAI route goes through the same policy.
    await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', VALID),
      422,
      'content_policy',
    );
  });
});

describe('429', () => {
  it('rate_limited above the burst, across every tenant route, with Retry-After', async () => {
    const api = await makeApi({ limits: { requestsPerSecond: 0.01, burst: 3 } });
    expect((await api.call(api.alice, 'GET', '/v1/models')).status).toBe(200);
    expect((await api.call(api.alice, 'GET', GEN)).status).toBe(200);
    expect((await api.call(api.alice, 'POST', GEN, VALID)).status).toBe(202);
    const response = await api.call(api.alice, 'GET', '/v1/models/shapes-mmdit-s');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectProblem(response, 429, 'rate_limited');
    // Another tenant has its own bucket.
    expect((await api.call(api.bob, 'GET', '/v1/models')).status).toBe(200);
  });

  it('too_many_queued when the tenant has maxQueuedPerTenant jobs waiting', async () => {
    const api = await makeApi({ limits: { maxQueuedPerTenant: 2 } });
    expect((await api.call(api.alice, 'POST', GEN, VALID)).status).toBe(202);
    expect((await api.call(api.alice, 'POST', GEN, VALID)).status).toBe(202);
    const response = await api.call(api.alice, 'POST', GEN, VALID);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expectProblem(response, 429, 'too_many_queued');
    await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', VALID),
      429,
      'too_many_queued',
    );
    // Bob's queue is his own.
    expect((await api.call(api.bob, 'POST', GEN, VALID)).status).toBe(202);
  });
});

describe('503 store_unavailable', () => {
  it('when the queue refuses the job: the job is failed, never left queued', async () => {
    const inner = new MemoryMessageQueue<JobMessage>();
    const queue = {
      ...bind(inner),
      send: () => Promise.reject(new Error('SQS is down')),
    };
    const api = await makeApi({ queue });
    const response = await api.call(api.alice, 'POST', GEN, VALID);
    const body = await expectProblem(response, 503, 'store_unavailable');
    expect(body.error?.type).toBe('server_error');
    // Internal detail (the SQS message) stays out of the answer.
    expect(body.detail).not.toMatch(/SQS/);
    const list = (await (await api.call(api.alice, 'GET', GEN)).json()) as {
      data: GenerationView[];
    };
    expect(list.data).toHaveLength(1);
    expect(list.data[0]?.status).toBe('failed');
    expect(list.data[0]?.error).toMatchObject({ code: 'store_unavailable', retryable: true });
    const queued = await api.call(api.alice, 'GET', `${GEN}?status=queued`);
    expect(((await queued.json()) as { data: unknown[] }).data).toHaveLength(0);
  });

  it('when the job store is down', async () => {
    const jobs = new MemoryJobStore();
    jobs.create = () => Promise.reject(new (class extends Error {})('disk full'));
    const api = await makeApi({ jobs });
    // A foreign error from an adapter is an opaque 500, never its message.
    const body = await expectProblem(
      await api.call(api.alice, 'POST', GEN, VALID),
      500,
      'internal',
    );
    expect(body.detail).not.toMatch(/disk/);
  });
});

describe('OpenAI route errors', () => {
  it('504 wait_timeout when the image is not ready within the synchronous wait', async () => {
    const api = await makeApi({ limits: { maxWaitSeconds: 0 } });
    const body = await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', VALID),
      504,
      'wait_timeout',
    );
    // The job goes on: the message says where to follow it.
    expect(body.detail).toMatch(/GET \/v1\/generations\/gen_/);
    expect(body.error?.type).toBe('server_error');
  });

  it('names OpenAI fields (size, n) in its 422s', async () => {
    const api = await makeApi();
    const size = await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', { ...VALID, size: '1024x1024' }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(size, 'size').allowed).toBe('one of 128x128, 192x128, 128x192');
    expect(size.error?.param).toBe('size');
    const n = await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', { ...VALID, n: 10 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(n, 'n').allowed).toBe('at most 4');
  });

  it('refuses guidance and guidance_scale together', async () => {
    const api = await makeApi();
    const body = await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', {
        ...VALID,
        guidance: 3,
        guidance_scale: 4,
      }),
      422,
      'invalid_request',
    );
    fieldProblem(body, 'guidance');
  });

  it('409 generation_canceled when the job is canceled while the request waits', async () => {
    const jobs = new MemoryJobStore();
    const blobs = new MemoryBlobStore();
    const inner = new MemoryMessageQueue<JobMessage>();
    const api = await makeApi({
      jobs,
      blobs,
      queue: {
        ...instantWorkerQueue(jobs, blobs, inner),
        // The job is canceled instead of run.
        send: async (message) => {
          await inner.send(message);
          const job = await jobs.get(message.tenant, message.jobId);
          await jobs.put(
            {
              ...job,
              status: 'canceled',
              version: job.version + 1,
              completedAt: new Date().toISOString(),
            },
            job.version,
          );
        },
      },
    });
    await expectProblem(
      await api.call(api.alice, 'POST', '/v1/images/generations', VALID),
      409,
      'generation_canceled',
    );
  });
});

describe('every answer carries a request id', () => {
  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const api = await makeApi();
    const mine = await api.call(undefined, 'GET', '/healthz', undefined, {
      'x-request-id': 'client-trace-0001',
    });
    expect(mine.headers.get('x-request-id')).toBe('client-trace-0001');
    const unsafe = await api.call(undefined, 'GET', '/nope', undefined, {
      'x-request-id': 'bad id with spaces <script>',
    });
    const body = await expectProblem(unsafe, 404, 'not_found');
    expect(body.request_id).not.toMatch(/ /);
  });
});
