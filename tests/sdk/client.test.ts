import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { claim, end, leaseUntil, progress, succeed } from '../../core/jobs/transitions.ts';
import { updateJob } from '../../core/jobs/update-job.ts';
import {
  AuthError,
  ConflictError,
  Ditserve,
  DitserveError,
  GenerationCanceledError,
  GenerationExpiredError,
  GenerationFailedError,
  NotFoundError,
  RateLimitError,
  ValidationError,
  type GenerationEvent,
  type RetryInfo,
} from '../../sdk/client/index.ts';
import { recordingFetch, startSdkStack, type SdkStack } from './stack.ts';

/** Tests never wait out a real backoff: network-error retries go again at once. */
const QUICK = { baseDelayMs: 1, maxDelayMs: 1 };

describe('the client against a running ditserve with a worker', () => {
  let stack: SdkStack;
  beforeAll(async () => {
    stack = await startSdkStack();
  });
  afterAll(() => stack.stop());

  it('generate() submits, follows SSE and resolves with the finished generation', async () => {
    const { fetch, calls } = recordingFetch();
    const client = new Ditserve({ baseUrl: stack.url, fetch });
    const events: GenerationEvent[] = [];
    const done = await client.generate(
      { prompt: 'a red circle', seed: 11, num_images: 2 },
      { onProgress: (e) => events.push(e) },
    );
    expect(done.status).toBe('succeeded');
    expect(done.outputs.map((o) => o.seed)).toEqual([11, 12]);
    expect(events.at(-1)).toEqual({ type: 'status', generation: done });
    const image = await globalThis.fetch(done.outputs[0]?.url ?? '');
    expect(image.headers.get('content-type')).toBe('image/png');
    // It streamed: one /events request, no polling GETs.
    expect(calls.filter((c) => c.path.endsWith('/events'))).toHaveLength(1);
    expect(calls.filter((c) => c.path === `/v1/generations/${done.id}`)).toEqual([]);
  });

  it('falls back to polling when the events stream cannot be reached', async () => {
    const { fetch, calls } = recordingFetch((input, init) =>
      input.endsWith('/events')
        ? Promise.reject(new TypeError('fetch failed'))
        : globalThis.fetch(input, init),
    );
    const client = new Ditserve({
      baseUrl: `${stack.url}/v1/`,
      fetch,
      retry: { ...QUICK, maxRetries: 1 },
      pollIntervalMs: 20,
    });
    const done = await client.generate({ prompt: 'a blue square' });
    expect(done.status).toBe('succeeded');
    expect(calls.filter((c) => c.path === `/v1/generations/${done.id}`).length).toBeGreaterThan(0);
  });

  it('retries a submit whose answer was lost with the same Idempotency-Key: one job', async () => {
    let lost = 0;
    const seen: Response[] = [];
    const { fetch, calls } = recordingFetch(async (input, init) => {
      const response = await globalThis.fetch(input, init);
      seen.push(response);
      // The server created the job; the answer never reaches the client.
      if (init.method === 'POST' && lost++ === 0) throw new TypeError('socket hang up');
      return response;
    });
    const client = new Ditserve({ baseUrl: stack.url, fetch, retry: QUICK });
    const job = await client.submit({ prompt: 'a lost answer', metadata: { test: 'idempotent' } });
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(2);
    const key = posts[0]?.headers.get('idempotency-key');
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[1]?.headers.get('idempotency-key')).toBe(key);
    expect(seen[1]?.headers.get('idempotent-replayed')).toBe('true');
    const ids: string[] = [];
    for await (const page of client.list({ limit: 100 })) {
      ids.push(...page.data.filter((g) => g.metadata?.test === 'idempotent').map((g) => g.id));
    }
    expect(ids).toEqual([job.id]);
    // Two submits of the same body are two generations: each submit has its own key.
    const again = await client.submit({ prompt: 'a lost answer' });
    expect(again.id).not.toBe(job.id);
  });

  it('throws typed errors with the problem code, field errors and request id', async () => {
    const client = new Ditserve({ baseUrl: stack.url });
    const invalid = await client.submit({ prompt: '', steps: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid).toBeInstanceOf(DitserveError);
    const v = invalid as ValidationError;
    expect([v.status, v.code, v.retryable]).toEqual([422, 'invalid_request', false]);
    expect(v.fieldErrors.map((f) => f.field).sort()).toEqual(['prompt', 'steps']);
    expect(v.requestId).toMatch(/.{8,}/);

    const missing = await client.get('gen_doesnotexist').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).status).toBe(404);

    const done = await client.generate({ prompt: 'a finished one' });
    const late = await client.cancel(done.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(late).toBeInstanceOf(ConflictError);
    expect((late as ConflictError).code).toBe('invalid_transition');
  });

  it('lists the models', async () => {
    const models = await new Ditserve({ baseUrl: stack.url }).models();
    expect(models.map((m) => m.id)).toEqual(['test-latents']);
    expect(models[0]?.defaults.steps).toBe(4);
  });
});

describe('the client against a ditserve whose jobs wait (no worker)', () => {
  let stack: SdkStack;
  let client: Ditserve;
  beforeAll(async () => {
    stack = await startSdkStack({ workers: 0 });
    client = new Ditserve({ baseUrl: stack.url });
  });
  afterAll(() => stack.stop());

  it('events() yields every status change and step from SSE, ending at the terminal one', async () => {
    const { fetch, calls } = recordingFetch();
    const streaming = new Ditserve({ baseUrl: stack.url, fetch });
    const job = await streaming.submit({ prompt: 'step by step', steps: 4 });
    const events = streaming.events(job.id);
    const next = async () => (await events.next()).value as GenerationEvent | undefined;
    const { jobs } = stack.backend;
    const lease = () => leaseUntil(new Date(), 60);
    // The test plays the worker, moving the job only after the client saw the last state.
    expect(await next()).toMatchObject({ type: 'status', generation: { status: 'queued' } });
    await updateJob(jobs, 'local', job.id, (j) => claim(j, new Date(), lease()));
    expect(await next()).toMatchObject({ type: 'status', generation: { status: 'running' } });
    for (const step of [1, 2, 3]) {
      await updateJob(jobs, 'local', job.id, (j) => progress(j, 1, step, 4, new Date(), lease()));
      expect(await next()).toMatchObject({
        type: 'progress',
        generation: { status: 'running', progress: { step, total: 4 } },
      });
    }
    await updateJob(jobs, 'local', job.id, (j) => succeed(j, 1, [], {}, new Date()));
    expect(await next()).toMatchObject({ type: 'status', generation: { status: 'succeeded' } });
    expect(await events.next()).toEqual({ done: true, value: undefined });
    expect(calls.map((c) => c.path)).toEqual([
      '/v1/generations',
      `/v1/generations/${job.id}/events`,
    ]);
  });

  it('cancel() cancels a queued generation and wait() throws GenerationCanceledError', async () => {
    const job = await client.submit({ prompt: 'never mind' });
    const canceled = await client.cancel(job.id);
    expect(canceled.status).toBe('canceled');
    const error = await client.wait(job.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GenerationCanceledError);
    expect(error).toBeInstanceOf(GenerationFailedError);
    expect((error as GenerationCanceledError).status).toBe('canceled');
    expect((error as GenerationCanceledError).generation.id).toBe(job.id);
  });

  it('generate() rejects with GenerationCanceledError when the job is canceled meanwhile', async () => {
    let canceling: Promise<unknown> | undefined;
    const error = await client
      .generate(
        { prompt: 'canceled while waiting' },
        {
          onProgress: ({ generation }) => {
            if (generation.status === 'queued') canceling = client.cancel(generation.id);
          },
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await canceling;
    expect(error).toBeInstanceOf(GenerationCanceledError);
  });

  it("wait() throws GenerationFailedError with the job's code, GenerationExpiredError on expiry", async () => {
    const { jobs } = stack.backend;
    const failing = await client.submit({ prompt: 'lost worker' });
    const expiring = await client.submit({ prompt: 'waited too long' });
    // Ended the way the worker and the sweeper end them, once the client is following.
    const ending = async (id: string, ender: Parameters<typeof updateJob>[3]) => {
      const seen = client.wait(id, {
        onProgress: () => void updateJob(jobs, 'local', id, ender),
      });
      return seen.then(
        () => undefined,
        (e: unknown) => e,
      );
    };
    const failed = await ending(failing.id, (j) =>
      end(j, 'failed', new Date(), { code: 'worker_lost', message: 'gone', retryable: true }),
    );
    expect(failed).toBeInstanceOf(GenerationFailedError);
    expect(failed).not.toBeInstanceOf(GenerationExpiredError);
    const f = failed as GenerationFailedError;
    expect([f.status, f.code, f.retryable, f.generation.id]).toEqual([
      'failed',
      'worker_lost',
      true,
      failing.id,
    ]);
    const expired = await ending(expiring.id, (j) => end(j, 'expired', new Date()));
    expect(expired).toBeInstanceOf(GenerationExpiredError);
    expect((expired as GenerationExpiredError).status).toBe('expired');
  });

  it('list() pages through every generation with the cursor, newest first', async () => {
    const submitted: string[] = [];
    for (let i = 0; i < 5; i++) submitted.push((await client.submit({ prompt: `page ${i}` })).id);
    const pages: string[][] = [];
    for await (const page of client.list({ limit: 2 })) pages.push(page.data.map((g) => g.id));
    const all: string[] = [];
    for await (const page of client.list({ limit: 100 })) all.push(...page.data.map((g) => g.id));
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(pages.length).toBe(Math.ceil(all.length / 2));
    expect(pages.flat()).toEqual(all);
    expect(all.filter((id) => submitted.includes(id))).toEqual([...submitted].reverse());
    // A status filter travels with every page.
    for await (const page of client.list({ limit: 2, status: 'canceled' })) {
      expect(page.data.every((g) => g.status === 'canceled')).toBe(true);
    }
  });
});

describe('429: retried after Retry-After, or thrown as RateLimitError', () => {
  it('waits out too_many_queued for as long as Retry-After says, then succeeds', async () => {
    const stack = await startSdkStack({ workers: 0, limits: { maxQueuedPerTenant: 1 } });
    try {
      const client = new Ditserve({ baseUrl: stack.url });
      const first = await client.submit({ prompt: 'the one queued job' });
      const retries: RetryInfo[] = [];
      let freed: Promise<unknown> | undefined;
      const patient = new Ditserve({
        baseUrl: stack.url,
        retry: { maxRetries: 5 },
        onRetry: (info) => {
          retries.push(info);
          freed ??= client.cancel(first.id);
        },
      });
      const second = await patient.submit({ prompt: 'the next one' });
      await freed;
      expect(second.status).toBe('queued');
      const [retry] = retries;
      expect(retry?.error).toBeInstanceOf(RateLimitError);
      const limited = retry?.error as RateLimitError;
      expect([limited.status, limited.code, limited.retryable]).toEqual([
        429,
        'too_many_queued',
        true,
      ]);
      expect(retry?.delayMs).toBe((limited.retryAfterSeconds ?? 0) * 1000);
      expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });

  it('throws RateLimitError at once when Retry-After is longer than it will wait; keys are checked', async () => {
    const stack = await startSdkStack({
      workers: 0,
      requireKeys: true,
      limits: { requestsPerSecond: 0.01, burst: 1 },
    });
    try {
      const anonymous = new Ditserve({ baseUrl: stack.url });
      const denied = await anonymous.models().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(denied).toBeInstanceOf(AuthError);
      expect((denied as AuthError).code).toBe('unauthorized');

      const { key } = await issueApiKey(stack.backend.keys, 'tenant-sdk', 'sdk test');
      const retries: RetryInfo[] = [];
      const client = new Ditserve({
        baseUrl: stack.url,
        apiKey: key,
        onRetry: (info) => retries.push(info),
      });
      expect(await client.models()).toHaveLength(1);
      const limited = await client.models().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(limited).toBeInstanceOf(RateLimitError);
      expect((limited as RateLimitError).code).toBe('rate_limited');
      expect((limited as RateLimitError).retryAfterSeconds).toBeGreaterThan(60);
      expect(retries).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});
