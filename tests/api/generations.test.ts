import { describe, expect, it } from 'vitest';
import type { GenerationData } from '../../core/generation.ts';
import { transition } from '../../core/job.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { completeJob, makeApi, SHIPPED_STEPS } from './harness.ts';
import { expectProblem, VALID } from './support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;

async function create(api: Api, body: unknown = VALID, headers: Record<string, string> = {}) {
  const response = await api.call(api.alice, 'POST', '/v1/generations', body, headers);
  return { response, body: (await response.json()) as GenerationView };
}

describe('POST /v1/generations', () => {
  it('queues a job and answers 202 with the resolved input, links and Location', async () => {
    const api = await makeApi();
    const { response, body } = await create(api, {
      ...VALID,
      negative_prompt: 'green',
      aspect_ratio: '3:2',
      steps: 8,
      guidance_scale: 4.5,
      sampler: 'heun',
      seed: 7,
      num_images: 2,
      output_format: 'webp',
      metadata: { order: 'A-1' },
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('location')).toBe(`/v1/generations/${body.id}`);
    expect(body).toMatchObject({
      object: 'generation',
      status: 'queued',
      model: 'shapes-mmdit-s',
      input: {
        prompt: VALID.prompt,
        negative_prompt: 'green',
        width: 192,
        height: 128,
        steps: 8,
        guidance_scale: 4.5,
        sampler: 'heun',
        seed: 7,
        num_images: 2,
        output_format: 'webp',
      },
      outputs: [],
      metadata: { order: 'A-1' },
    });
    // The position is GET's (it costs a queue scan, which a submit does not pay).
    expect(body.queue_position).toBeUndefined();
    // No public URL configured: relative to the server (the Host header is never used).
    expect(body.links.self).toBe(`/v1/generations/${body.id}`);
    expect(body.links.cancel).toBe(`${body.links.self}/cancel`);
    expect(body.links.events).toBe(`${body.links.self}/events`);
    // The job id (and nothing else) goes to the queue: the store is the source of truth.
    const [message] = await api.queue.receive();
    expect(message?.body).toMatchObject({ tenant: 'tenant-alice', jobId: body.id });
  });

  it('fills every default from the model and always returns the seed it picked', async () => {
    const api = await makeApi();
    const { body } = await create(api);
    expect(body.input).toMatchObject({
      width: 128,
      height: 128,
      steps: SHIPPED_STEPS,
      sampler: 'euler',
      num_images: 1,
      output_format: 'png',
      negative_prompt: '',
    });
    expect(Number.isSafeInteger(body.input.seed)).toBe(true);
  });

  it('normalizes the prompt (NFC, trimmed) and warns about words the model does not know', async () => {
    const api = await makeApi();
    const { body } = await create(api, { prompt: '  a red cafe\u0301 zebra \n' });
    expect(body.input.prompt).toBe('a red caf\u00e9 zebra');
    expect(body.warnings?.join(' ')).toMatch(/zebra/);
  });

  it('keeps a webhook and echoes it', async () => {
    const api = await makeApi();
    const webhook = { url: 'https://example.com/hook', events: ['generation.succeeded'] };
    const { body } = await create(api, { ...VALID, webhook });
    expect(body.webhook).toEqual(webhook);
  });
});

describe('GET /v1/generations/{id}', () => {
  it('shows queue position while queued, progress while running, outputs and timings when done', async () => {
    const api = await makeApi();
    const first = (await create(api)).body;
    const second = (await create(api)).body;
    const third = (await create(api)).body;
    const read = async (id: string) =>
      (await (await api.call(api.alice, 'GET', `/v1/generations/${id}`)).json()) as GenerationView;
    expect((await read(first.id)).queue_position).toBe(1);
    expect((await read(second.id)).queue_position).toBe(2);
    expect((await read(third.id)).queue_position).toBe(3);

    const queued = await api.jobs.get<GenerationData>('tenant-alice', first.id);
    const running = transition(queued, 'running', new Date());
    await api.jobs.put(
      { ...running, data: { ...running.data, progress: { step: 5, total: 20 } } },
      queued.version,
    );
    const during = await read(first.id);
    expect(during.status).toBe('running');
    expect(during.queue_position).toBeUndefined();
    expect(during.progress).toEqual({ step: 5, total: 20, percent: 25 });
    expect(during.timings.started_at).toBeDefined();
    // Jobs behind a started one move up.
    expect((await read(second.id)).queue_position).toBe(1);

    await completeJob(api.jobs, api.blobs, 'tenant-alice', second.id);
    const done = await read(second.id);
    expect(done.status).toBe('succeeded');
    expect(done.outputs).toHaveLength(1);
    expect(done.outputs[0]).toMatchObject({
      index: 0,
      content_type: 'image/png',
      width: 128,
      height: 128,
      seed: second.input.seed,
    });
    expect(done.outputs[0]?.url).toMatch(/^memory:\/\//);
    expect(Date.parse(done.outputs[0]?.expires_at ?? '')).toBeGreaterThan(Date.now());
    expect(done.timings.completed_at).toBeDefined();
    expect(done.timings.queue_ms).toBeGreaterThanOrEqual(0);
  });

  it('shows a failed job’s error', async () => {
    const api = await makeApi();
    const { body } = await create(api);
    const queued = await api.jobs.get<GenerationData>('tenant-alice', body.id);
    const failed = transition(queued, 'failed', new Date());
    await api.jobs.put(
      {
        ...failed,
        data: {
          ...failed.data,
          error: { code: 'device_unavailable', message: 'no GPU', retryable: true },
        },
      },
      queued.version,
    );
    const view = (await (
      await api.call(api.alice, 'GET', `/v1/generations/${body.id}`)
    ).json()) as GenerationView;
    expect(view.status).toBe('failed');
    expect(view.error).toEqual({ code: 'device_unavailable', message: 'no GPU', retryable: true });
  });
});

describe('GET /v1/generations (list)', () => {
  it('walks 45 jobs newest first by cursor, each exactly once', async () => {
    const api = await makeApi({ limits: { requestsPerSecond: 1000, burst: 1000 } });
    const created: string[] = [];
    for (let i = 0; i < 45; i++) created.push((await create(api)).body.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await api.call(api.alice, 'GET', `/v1/generations?${query}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as {
        object: string;
        data: GenerationView[];
        has_more: boolean;
        next_cursor?: string;
      };
      expect(page.object).toBe('list');
      expect(page.has_more).toBe(page.next_cursor !== undefined);
      seen.push(...page.data.map((g) => g.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
    expect(new Set(seen).size).toBe(45);
  });

  it('filters by status', async () => {
    const api = await makeApi();
    const a = (await create(api)).body;
    await create(api);
    await completeJob(api.jobs, api.blobs, 'tenant-alice', a.id);
    const page = (await (
      await api.call(api.alice, 'GET', '/v1/generations?status=succeeded')
    ).json()) as { data: GenerationView[] };
    expect(page.data.map((g) => g.id)).toEqual([a.id]);
  });

  it('rejects unknown query parameters and out-of-range limits per field', async () => {
    const api = await makeApi();
    const body = await expectProblem(
      await api.call(api.alice, 'GET', '/v1/generations?limit=500&colour=red'),
      422,
      'invalid_request',
    );
    expect(body.errors?.map((e) => e.field).sort()).toEqual(['colour', 'limit']);
  });
});

describe('POST /v1/generations/{id}/cancel', () => {
  it('cancels a queued job at once and sends its webhook event to the outbox', async () => {
    const api = await makeApi();
    const { body } = await create(api, {
      ...VALID,
      metadata: { order: 'A-7' },
      webhook: { url: 'https://example.com/hook' },
    });
    const response = await api.call(api.alice, 'POST', `/v1/generations/${body.id}/cancel`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as GenerationView;
    expect(view.status).toBe('canceled');
    expect(view.timings.completed_at).toBeDefined();

    const events = await api.outbox.receive({ maxMessages: 10 });
    expect(events).toHaveLength(1);
    const event = events[0]?.body;
    expect(event).toMatchObject({
      tenant: 'tenant-alice',
      jobId: body.id,
      type: 'generation.canceled',
      url: 'https://example.com/hook',
    });
    expect(event?.id).toMatch(/^msg_/);
    // The payload is the documented webhook body (docs/api.md), like the worker's events.
    expect(event?.data).toMatchObject({
      id: body.id,
      object: 'generation',
      status: 'canceled',
      model: 'shapes-mmdit-s',
      metadata: { order: 'A-7' },
    });

    // Canceling again is a no-op that emits nothing more.
    const again = await api.call(api.alice, 'POST', `/v1/generations/${body.id}/cancel`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as GenerationView).status).toBe('canceled');
    expect(await api.outbox.receive({ maxMessages: 10 })).toHaveLength(0);
  });

  it('emits nothing when the webhook does not subscribe to cancellations', async () => {
    const api = await makeApi();
    const { body } = await create(api, {
      ...VALID,
      webhook: { url: 'https://example.com/hook', events: ['generation.succeeded'] },
    });
    expect((await api.call(api.alice, 'POST', `/v1/generations/${body.id}/cancel`)).status).toBe(
      200,
    );
    expect(await api.outbox.receive({ maxMessages: 10 })).toHaveLength(0);
  });

  it('asks a running job to stop at its next step (cancel_requested)', async () => {
    const api = await makeApi();
    const { body } = await create(api);
    const queued = await api.jobs.get<GenerationData>('tenant-alice', body.id);
    await api.jobs.put(transition(queued, 'running', new Date()), queued.version);
    const response = await api.call(api.alice, 'POST', `/v1/generations/${body.id}/cancel`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as GenerationView;
    expect(view.status).toBe('running');
    expect(view.cancel_requested).toBe(true);
    const stored = await api.jobs.get<GenerationData>('tenant-alice', body.id);
    expect(stored.data.cancelRequested).toBe(true);
  });

  it('refuses to cancel a succeeded job (409)', async () => {
    const api = await makeApi();
    const { body } = await create(api);
    await completeJob(api.jobs, api.blobs, 'tenant-alice', body.id);
    await expectProblem(
      await api.call(api.alice, 'POST', `/v1/generations/${body.id}/cancel`),
      409,
      'invalid_transition',
    );
  });
});
