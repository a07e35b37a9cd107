import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationData, VideoGenerationParams } from '../../core/generation.ts';
import { KEYS } from '../../core/storage-layout.ts';
import type { GenerationEventData } from '../../core/webhooks/events.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { loadModels } from '../../gpu-worker/src/worker/load-models.ts';
import { inProcessSampler, type Sampler } from '../../gpu-worker/src/worker/sampler-port.ts';
import { startThreadSampler } from '../../gpu-worker/src/worker/thread-sampler.ts';
import type { WorkerEvent } from '../../gpu-worker/src/worker/state.ts';
import { Worker, type WorkerOptions } from '../../gpu-worker/src/worker/worker.ts';
import { makeApi, MODEL_DIR } from '../api/harness.ts';
import { pngOf } from '../api/support.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_VIDEO_MODEL, writeTestVideoModel } from '../helpers/test-video-model.ts';
import { ffprobe } from '../media/probe.ts';
import { fakeSampler, stepGate } from './fake-sampler.ts';
import { drainOutbox } from './worker-harness.ts';

const MODEL = 'test-video';
const K = TEST_VIDEO_MODEL.video.extend_context_frames;
let videoDir: string;
let sampler: Sampler;

beforeAll(async () => {
  videoDir = await writeTestVideoModel(join(await tempDir(), 'video'));
  sampler = inProcessSampler(await loadModels([videoDir], { device: 'cpu' }));
});

afterAll(async () => {
  await sampler.release();
});

/** The API (memory adapters) over the shipped image model and the test video model, and a worker. */
async function setup(worker: Partial<WorkerOptions> = {}) {
  const api = await makeApi({
    models: await loadModelCatalog([MODEL_DIR, videoDir]),
    limits: { requestsPerSecond: 1000, burst: 1000 },
  });
  const events: WorkerEvent[] = [];
  const makeWorker = () =>
    new Worker({
      jobs: api.jobs,
      queue: api.queue,
      blobs: api.blobs,
      outbox: api.outbox,
      sampler,
      pollWaitSeconds: 1,
      progressIntervalMs: 0,
      retryDelaySeconds: 0,
      onEvent: (e) => events.push(e),
      ...worker,
    });
  const submit = async (body: Record<string, unknown>) => {
    const res = await api.call(api.alice, 'POST', '/v1/generations', {
      model: MODEL,
      prompt: 'a red circle moving left',
      ...body,
    });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const read = (id: string) => api.jobs.get<GenerationData>('tenant-alice', id);
  const ended = async (id: string, ms = 30_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const job = await read(id);
      if (['succeeded', 'failed', 'canceled', 'expired'].includes(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`${id} still ${job.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const outboxEvents = () => drainOutbox(api.outbox);
  return { api, worker: makeWorker(), makeWorker, events, submit, read, ended, outboxEvents };
}

const bytesOf = async (api: Awaited<ReturnType<typeof makeApi>>, key: string) =>
  Buffer.from((await api.blobs.get(key)).bytes);

async function webpFrameCount(webp: Buffer): Promise<number> {
  return (await sharp(webp, { pages: -1 }).metadata()).pages ?? 1;
}

describe('the worker runs video jobs', () => {
  it('text-to-video: every clip as MP4, animated WebP and thumbnail under KEYS.videoOutput, with progress', async () => {
    const t = await setup();
    const id = await t.submit({ frames: 6, num_images: 2, steps: 3, seed: 11 });
    t.worker.start();
    const job = await t.ended(id);
    await t.worker.stop();
    expect(job.status).toBe('succeeded');
    const outputs = job.data.outputs ?? [];
    expect(outputs).toHaveLength(2);
    for (const [index, o] of outputs.entries()) {
      const mp4 = KEYS.videoOutput('tenant-alice', id, index, 'mp4');
      expect(o).toMatchObject({ index, seed: 11 + index, key: mp4, contentType: 'video/mp4' });
      expect(o.video).toMatchObject({
        frames: 6,
        fps: 8,
        durationSeconds: 0.75,
        mp4: { key: mp4, contentType: 'video/mp4' },
        webp: {
          key: KEYS.videoOutput('tenant-alice', id, index, 'webp'),
          contentType: 'image/webp',
        },
        thumbnail: {
          key: KEYS.videoOutput('tenant-alice', id, index, 'thumbnail'),
          contentType: 'image/png',
        },
      });
      expect(o.video?.note).toBeUndefined();
      const probe = await ffprobe(await bytesOf(t.api, mp4));
      expect(probe.streams[0]?.nb_read_frames).toBe('6');
      expect(probe.streams[0]?.r_frame_rate).toBe('8/1');
      expect(await webpFrameCount(await bytesOf(t.api, o.video?.webp.key ?? ''))).toBe(6);
      const thumb = await sharp(await bytesOf(t.api, o.video?.thumbnail.key ?? '')).metadata();
      expect([thumb.format, thumb.width, thumb.height]).toEqual(['png', 8, 8]);
    }
    const steps = t.events.flatMap((e) => (e.type === 'job_progress' ? [e.step] : []));
    expect(steps).toEqual([1, 2, 3]);
  });

  it('without an H.264 encoder: WebP and thumbnail, the note, and still succeeded', async () => {
    const t = await setup({ ffmpeg: '/nonexistent/ffmpeg' });
    const id = await t.submit({ frames: 4, steps: 2 });
    t.worker.start();
    const job = await t.ended(id);
    await t.worker.stop();
    expect(job.status).toBe('succeeded');
    const [o] = job.data.outputs ?? [];
    expect(o?.contentType).toBe('image/webp');
    expect(o?.key).toBe(KEYS.videoOutput('tenant-alice', id, 0, 'webp'));
    expect(o?.video?.mp4).toBeUndefined();
    expect(o?.video?.note).toMatch(/MP4 left out.*\/nonexistent\/ffmpeg/);
    expect(await webpFrameCount(await bytesOf(t.api, o?.key ?? ''))).toBe(4);
  });

  it('image-to-video: the init image is frame 0 (fitted to the clip size)', async () => {
    const t = await setup();
    const png = Buffer.from(await pngOf(32, 16)).toString('base64');
    const id = await t.submit({ frames: 4, steps: 2, init_image: png });
    t.worker.start();
    const job = await t.ended(id);
    await t.worker.stop();
    expect(job.status).toBe('succeeded');
    const thumb = await sharp(
      await bytesOf(t.api, job.data.outputs?.[0]?.video?.thumbnail.key ?? ''),
    )
      .raw()
      .toBuffer();
    // The init image is one colour (200, 30, 30); its VAE round trip keeps it close.
    expect(Math.abs((thumb[0] ?? 0) - 200)).toBeLessThan(24);
    expect(Math.abs((thumb[1] ?? 0) - 30)).toBeLessThan(24);
  });

  it('extension: returns the frames asked for, starting from the source clip', async () => {
    const t = await setup();
    t.worker.start();
    const source = await t.ended(await t.submit({ frames: 6, steps: 2 }));
    expect(source.status).toBe('succeeded');
    const id = await t.submit({ extend: source.id, frames: 4, steps: 2 });
    const job = await t.ended(id);
    await t.worker.stop();
    expect(job.status).toBe('succeeded');
    const p = job.data.params as VideoGenerationParams;
    expect(p.extendOf?.contextFrames).toBe(K);
    const o = job.data.outputs?.[0];
    expect(o?.video?.frames).toBe(4);
    expect((await ffprobe(await bytesOf(t.api, o?.key ?? ''))).streams[0]?.nb_read_frames).toBe(
      '4',
    );
  });

  it.each([
    ['an init image that does not decode', 'init'],
    ['an init image that is gone', 'init-gone'],
    ['an extend source that is gone', 'extend-gone'],
    ['an extend source that is not a WebP', 'extend-bad'],
  ] as const)('%s: the job fails at once, not retryable, with a clear error', async (_, what) => {
    const t = await setup();
    let id: string;
    if (what === 'init' || what === 'init-gone') {
      const png = Buffer.from(await pngOf(8, 8)).toString('base64');
      id = await t.submit({ frames: 4, steps: 2, init_image: png });
      const key = (await t.read(id)).data.params as VideoGenerationParams;
      if (what === 'init') {
        await t.api.blobs.put(key.initImageKey ?? '', new Uint8Array([1, 2, 3]), 'image/png');
      } else {
        await t.api.blobs.delete(key.initImageKey ?? '');
      }
    } else {
      t.worker.start();
      const source = await t.ended(await t.submit({ frames: 6, steps: 2 }));
      await t.worker.stop();
      const webp = source.data.outputs?.[0]?.video?.webp.key ?? '';
      // The API checked the source at submit; it is removed (or spoilt) before the worker runs.
      id = await t.submit({ extend: source.id, frames: 4, steps: 2 });
      if (what === 'extend-gone') await t.api.blobs.delete(webp);
      else await t.api.blobs.put(webp, new Uint8Array([9, 9, 9]), 'image/webp');
      t.worker = t.makeWorker();
    }
    t.worker.start();
    const job = await t.ended(id);
    await t.worker.stop();
    expect(job.status).toBe('failed');
    expect(job.data.attempts).toBe(1);
    expect(job.data.error).toMatchObject({ code: 'invalid_request', retryable: false });
    const message = job.data.error?.message ?? '';
    if (what === 'init') expect(message).toMatch(/init_image.*decoded/);
    if (what === 'init-gone') expect(message).toMatch(/init_image .* is gone/);
    if (what === 'extend-gone') expect(message).toMatch(/\(extend\) is gone/);
    if (what === 'extend-bad') expect(message).toMatch(/does not decode as an animated WebP/);
    expect(job.data.outputs).toBeUndefined();
  });

  it('generation.succeeded carries the clip files with their URLs', async () => {
    const t = await setup();
    const id = await t.submit({
      frames: 4,
      steps: 2,
      webhook: { url: 'https://hooks.example.com/x' },
    });
    t.worker.start();
    await t.ended(id);
    await t.worker.stop();
    const succeeded = (await t.outboxEvents()).find((e) => e.type === 'generation.succeeded');
    const [o] = (succeeded?.data as GenerationEventData).outputs ?? [];
    expect(o?.content_type).toBe('video/mp4');
    expect(o?.url).toMatch(/0\.mp4/);
    expect(o?.video).toMatchObject({
      frames: 4,
      fps: 8,
      duration_seconds: 0.5,
      mp4: { content_type: 'video/mp4', url: expect.stringMatching(/0\.mp4/) as unknown },
      webp: { content_type: 'image/webp', url: expect.stringMatching(/0\.webp/) as unknown },
      thumbnail: {
        content_type: 'image/png',
        url: expect.stringMatching(/0\.thumb\.png/) as unknown,
      },
    });
  });
});

describe('video jobs in batches, canceled', () => {
  async function fakeSetup(gate?: ReturnType<typeof stepGate>) {
    const api = await makeApi({
      models: await loadModelCatalog([MODEL_DIR, videoDir]),
      limits: { requestsPerSecond: 1000, burst: 1000 },
    });
    const fake = fakeSampler({
      models: ['shapes-mmdit-s'],
      videoModels: [MODEL],
      beforeStep: gate?.beforeStep,
    });
    const worker = new Worker({
      jobs: api.jobs,
      queue: api.queue,
      blobs: api.blobs,
      outbox: api.outbox,
      sampler: fake,
      pollWaitSeconds: 1,
      progressIntervalMs: 0,
    });
    const submit = async (body: Record<string, unknown>) => {
      const res = await api.call(api.alice, 'POST', '/v1/generations', {
        model: MODEL,
        prompt: 'a blue square moving up',
        steps: 4,
        ...body,
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    return { api, fake, worker, submit };
  }

  it('compatible jobs share one sampler call; other frame counts and images do not', async () => {
    const t = await fakeSetup();
    const a = await t.submit({ frames: 6 });
    const b = await t.submit({ frames: 6, num_images: 2 });
    const c = await t.submit({ frames: 8 });
    const d = await t.submit({ model: 'shapes-mmdit-s', prompt: 'a red circle' });
    t.worker.start();
    const deadline = Date.now() + 20_000;
    const done = async () => {
      for (const id of [a, b, c, d]) {
        const job = await t.api.jobs.get<GenerationData>('tenant-alice', id);
        if (job.status !== 'succeeded') return false;
      }
      return true;
    };
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error('jobs did not run');
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.worker.stop();
    // The image job runs as images, on its own.
    expect(t.fake.calls.map((call) => call.model)).toEqual(['shapes-mmdit-s']);
    expect(t.fake.videoCalls).toHaveLength(2);
    // The two groups run side by side (continuous batching), in either order.
    const frames = t.fake.videoCalls.map((call) => call.clips.map((clip) => clip.frames));
    expect(frames.sort((x, y) => y.length - x.length)).toEqual([[6, 6, 6], [8]]);
  });

  it('a cancel mid-clip ends the job canceled at the next step, with no outputs', async () => {
    const gate = stepGate();
    const t = await fakeSetup(gate);
    const id = await t.submit({ frames: 6, steps: 50 });
    t.worker.start();
    gate.step();
    gate.step();
    await gate.reachedAt(3);
    const res = await t.api.call(t.api.alice, 'POST', `/v1/generations/${id}/cancel`);
    expect(res.status).toBeLessThan(300);
    // One step at a time: the write after the next step sees the cancel.
    const deadline = Date.now() + 10_000;
    let job = await t.api.jobs.get<GenerationData>('tenant-alice', id);
    while (job.status === 'running') {
      if (Date.now() > deadline) throw new Error('not canceled');
      gate.step();
      await new Promise((r) => setTimeout(r, 20));
      job = await t.api.jobs.get<GenerationData>('tenant-alice', id);
    }
    const ran = t.fake.stepsRun;
    // A step that asked before the abort reached the sampler may still go; none after it.
    gate.openAll();
    await t.worker.stop();
    expect(t.fake.stepsRun - ran).toBeLessThanOrEqual(1);
    expect(job.status).toBe('canceled');
    expect(job.data.outputs).toBeUndefined();
    // Steps 1–2 ran before the cancel, the next one's write saw it: far from its 50.
    expect(t.fake.stepsRun).toBeLessThanOrEqual(4);
  });
});

describe('the thread sampler serves image and video models side by side', () => {
  it('one thread: images of the image model, clips of the video model, with progress and cancel', async () => {
    const threaded = await startThreadSampler({ modelDirs: [MODEL_DIR, videoDir], device: 'cpu' });
    try {
      expect(threaded.models.get(MODEL)?.modality).toBe('video');
      expect(threaded.models.get('shapes-mmdit-s')?.modality).toBe('image');
      const steps: number[] = [];
      const [clip] = await threaded.generateVideos(
        MODEL,
        [{ prompt: 'a red circle', frames: 4, steps: 3, seed: 1 }],
        { onProgress: (step) => steps.push(step) },
      );
      expect(steps).toEqual([1, 2, 3]);
      expect(clip?.frames).toHaveLength(4);
      expect(clip?.frames[0]).toBeInstanceOf(Uint8Array);
      expect(clip?.frames[0]?.length).toBe(8 * 8 * 3);
      // The other kind on each model is the request's mistake, not a crash of the thread.
      await expect(threaded.generate(MODEL, [{ prompt: 'x' }])).rejects.toMatchObject({
        code: 'invalid_request',
      });
      await expect(
        threaded.generateVideos('shapes-mmdit-s', [{ prompt: 'x' }]),
      ).rejects.toMatchObject({ code: 'invalid_request' });
      const abort = new AbortController();
      const canceled = threaded.generateVideos(
        MODEL,
        [{ prompt: 'a red circle', frames: 4, steps: 200 }],
        {
          signal: abort.signal,
          onProgress: (step) => {
            if (step === 2) abort.abort();
          },
        },
      );
      await expect(canceled).rejects.toMatchObject({ code: 'generation_canceled' });
      const [image] = await threaded.generate('shapes-mmdit-s', [
        { prompt: 'a red circle', steps: 2 },
      ]);
      expect(image?.pixels.length).toBe(128 * 128 * 3);
    } finally {
      await threaded.release();
    }
  });
});
