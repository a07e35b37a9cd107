import OpenAI from 'openai';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { GenerationData } from '../../core/generation.ts';
import { completeJob, makeApi } from './harness.ts';
import { pngOf } from './support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;

/** Plays the GPU worker: takes each queued job and finishes it with a real PNG of its size. */
function startWorker(api: Api) {
  const controller = new AbortController();
  const done = (async () => {
    while (!controller.signal.aborted) {
      const deliveries = await api.queue.receive({ waitSeconds: 1, signal: controller.signal });
      for (const { body, receipt } of deliveries) {
        const job = await api.jobs.get<GenerationData>(body.tenant, body.jobId);
        const image = await pngOf(job.data.params.width, job.data.params.height);
        await completeJob(api.jobs, api.blobs, body.tenant, body.jobId, image);
        await api.queue.delete(receipt);
      }
    }
  })().catch((error: unknown) => {
    if (!controller.signal.aborted) throw error;
  });
  return {
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

let stopWorker: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopWorker?.();
  stopWorker = undefined;
});

/** The official SDK, unmodified but for its base URL, key and (here) the transport. */
function client(api: Api, apiKey: string) {
  return new OpenAI({
    apiKey,
    baseURL: 'http://ditserve.test/v1',
    maxRetries: 0,
    fetch: async (url, init) => api.app.request(url, init),
  });
}

describe('the official openai package against ditserve', () => {
  it('images.generate with response_format b64_json returns a decodable image', async () => {
    const api = await makeApi();
    stopWorker = startWorker(api).stop;
    const result = await client(api, api.alice).images.generate({
      prompt: 'a red circle left of a blue square',
      size: '192x128',
      response_format: 'b64_json',
    });
    expect(result.data).toHaveLength(1);
    const b64 = result.data?.[0]?.b64_json;
    expect(b64).toBeTruthy();
    const meta = await sharp(Buffer.from(b64 ?? '', 'base64')).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([192, 128]);
    expect(result.created).toBeGreaterThan(0);
  });

  it('images.generate with response_format url returns an output URL', async () => {
    const api = await makeApi();
    stopWorker = startWorker(api).stop;
    const result = await client(api, api.alice).images.generate({
      prompt: 'a blue square',
      response_format: 'url',
    });
    const url = result.data?.[0]?.url;
    // The in-memory BlobStore signs memory:// URLs; S3 and the local file server sign http(s).
    expect(url).toMatch(/^memory:\/\/jobs\/tenant-alice\/gen_\w+\/out\/0\.png\?expires=\d+$/);
    const key = (url ?? '').slice('memory://'.length).split('?')[0] ?? '';
    const stored = await api.blobs.get(key);
    const meta = await sharp(Buffer.from(stored.bytes)).metadata();
    expect([meta.width, meta.height]).toEqual([128, 128]);
  });

  it('surfaces ditserve errors as the SDK’s typed errors', async () => {
    const api = await makeApi();
    const openai = client(api, api.alice);
    const invalid = await openai.images
      .generate({ prompt: 'a red circle', size: '1024x1024' })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    const err = invalid as InstanceType<typeof OpenAI.UnprocessableEntityError>;
    expect(err.status).toBe(422);
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('size');

    const unauthorized = await client(api, 'dsk_not_a_key')
      .images.generate({ prompt: 'a red circle' })
      .catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('a wait that runs out is not retried by the SDK (x-should-retry: false): one generation, not three', async () => {
    // No worker and no wait: the job stays queued and the answer is 504 wait_timeout at once.
    const api = await makeApi({ limits: { maxWaitSeconds: 0 } });
    const openai = new OpenAI({
      apiKey: api.alice,
      baseURL: 'http://ditserve.test/v1',
      maxRetries: 2, // the SDK retries 5xx by default; the header must stop it
      fetch: async (url, init) => api.app.request(url, init),
    });
    const error = await openai.images.generate({ prompt: 'a red circle' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(504);
    expect(apiError.headers?.get('x-should-retry')).toBe('false');
    const list = await api.call(api.alice, 'GET', '/v1/generations');
    expect(((await list.json()) as { data: unknown[] }).data).toHaveLength(1);
  });
});
