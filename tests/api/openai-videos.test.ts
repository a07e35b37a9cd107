import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { GenerationData } from '../../core/generation.ts';
import { makeApi } from './harness.ts';
import { expectProblem, pngOf } from './support.ts';
import { completeVideoJob, VIDEO_MODEL, videoCatalog } from './video-support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;

/** The official SDK, unmodified but for its base URL, key and (here) the transport. */
function client(api: Api, apiKey = api.alice) {
  return new OpenAI({
    apiKey,
    baseURL: 'http://ditserve.test/v1',
    maxRetries: 0,
    fetch: async (url, init) => api.app.request(url, init),
  });
}

async function videoApi() {
  return makeApi({ models: await videoCatalog() });
}

describe('client.videos of the official openai package against ditserve', () => {
  it('create → retrieve (queued, in_progress, completed) → downloadContent → delete', async () => {
    const api = await videoApi();
    const openai = client(api);
    const created = await openai.videos.create({
      prompt: 'a red circle moving left',
      seconds: '2' as '4',
      size: '192x128' as '720x1280',
    });
    expect(created).toMatchObject({
      object: 'video',
      status: 'queued',
      progress: 0,
      model: VIDEO_MODEL,
      seconds: '2',
      size: '192x128',
      completed_at: null,
      error: null,
    });
    const job = await api.jobs.get<GenerationData>('tenant-alice', created.id);
    expect(job.data.params).toMatchObject({ modality: 'video', frames: 16, width: 192 });

    await api.jobs.put(
      {
        ...job,
        status: 'running',
        version: job.version + 1,
        data: { ...job.data, progress: { step: 6, total: 24 } },
      },
      job.version,
    );
    expect(await openai.videos.retrieve(created.id)).toMatchObject({
      status: 'in_progress',
      progress: 25,
    });
    await api.jobs.put({ ...job, version: job.version + 2 }, job.version + 1);
    await completeVideoJob(api.jobs, api.blobs, 'tenant-alice', created.id);
    const done = await openai.videos.retrieve(created.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(100);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);

    const mp4 = await openai.videos.downloadContent(created.id);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    expect(await mp4.text()).toBe('mp40');
    const thumb = await openai.videos.downloadContent(created.id, { variant: 'thumbnail' });
    expect(thumb.headers.get('content-type')).toBe('image/png');

    const deleted = await openai.videos.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'video.deleted', deleted: true });
    await expect(openai.videos.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(api.blobs.get(`jobs/tenant-alice/${created.id}/out/0.mp4`)).rejects.toThrow();
    await expectProblem(
      await api.call(api.alice, 'GET', `/v1/generations/${created.id}`),
      404,
      'job_not_found',
    );
  });

  it('input_reference as an uploaded file makes an image-to-video job', async () => {
    const api = await videoApi();
    const file = await toFile(Buffer.from(await pngOf(64, 64)), 'first.png', {
      type: 'image/png',
    });
    const created = await client(api).videos.create({
      prompt: 'a red circle moving left',
      input_reference: file,
    });
    const job = await api.jobs.get<GenerationData>('tenant-alice', created.id);
    const p = job.data.params;
    expect(p.modality === 'video' && p.initImageKey).toBe(
      `jobs/tenant-alice/${created.id}/in/init.png`,
    );
  });

  it('list pages by after/last_id over videos only, newest first', async () => {
    const api = await videoApi();
    const openai = client(api);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await openai.videos.create({ prompt: `a red circle ${i}` })).id);
      // An image generation between them is no video.
      await api.call(api.alice, 'POST', '/v1/generations', { prompt: 'a blue square' });
    }
    const seen: string[] = [];
    for await (const video of openai.videos.list({ limit: 2 })) seen.push(video.id);
    expect(seen).toEqual([...ids].reverse());
    const first = await openai.videos.list({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
  });

  it('extend continues a completed video; errors come as the SDK’s typed errors', async () => {
    const api = await videoApi();
    const openai = client(api);
    const source = await openai.videos.create({ prompt: 'a red circle moving left' });
    const early = await openai.videos
      .extend({ prompt: 'it keeps moving', seconds: '2' as '4', video: { id: source.id } })
      .catch((e: unknown) => e);
    expect(early).toBeInstanceOf(OpenAI.ConflictError);
    expect((early as InstanceType<typeof OpenAI.ConflictError>).param).toBe('video');

    await completeVideoJob(api.jobs, api.blobs, 'tenant-alice', source.id);
    const extension = await openai.videos.extend({
      prompt: 'it keeps moving',
      seconds: '2' as '4',
      video: { id: source.id },
    });
    expect(extension.seconds).toBe('2');
    const job = await api.jobs.get<GenerationData>('tenant-alice', extension.id);
    expect(job.data.params).toMatchObject({ frames: 16, extendOf: { generationId: source.id } });

    const seconds = await openai.videos
      .create({ prompt: 'a red circle', seconds: '12' })
      .catch((e: unknown) => e);
    expect(seconds).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect((seconds as InstanceType<typeof OpenAI.APIError>).param).toBe('seconds');
    const size = await openai.videos
      .create({ prompt: 'a red circle', size: '1280x720' })
      .catch((e: unknown) => e);
    expect((size as InstanceType<typeof OpenAI.APIError>).param).toBe('size');
    const model = await openai.videos
      .create({ prompt: 'a red circle', model: 'sora-2' })
      .catch((e: unknown) => e);
    expect((model as InstanceType<typeof OpenAI.APIError>).param).toBe('model');
    await expect(openai.videos.retrieve('gen_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('variant=video is the WebP where no MP4 was made, and says why', async () => {
    const api = await videoApi();
    const openai = client(api);
    const { id } = await openai.videos.create({ prompt: 'a red circle' });
    await expectProblem(
      await api.call(api.alice, 'GET', `/v1/videos/${id}/content`),
      409,
      'generation_not_succeeded',
    );
    await completeVideoJob(api.jobs, api.blobs, 'tenant-alice', id, { mp4: false });
    const response = await openai.videos.downloadContent(id);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('x-ditserve-note')).toContain('H.264');
    await expectProblem(
      await api.call(api.alice, 'GET', `/v1/videos/${id}/content?variant=spritesheet`),
      422,
      'invalid_request',
    );
    // Running or queued videos are not deleted.
    const queued = await openai.videos.create({ prompt: 'a red circle' });
    await expect(openai.videos.delete(queued.id)).rejects.toBeInstanceOf(OpenAI.ConflictError);
  });
});
