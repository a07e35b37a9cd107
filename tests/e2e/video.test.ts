import { join } from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOutput } from '../../core/webhooks/events.ts';
import type { Embedded } from '../../functions/local/embedded.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { MODEL_DIR } from '../api/harness.ts';
import { pngOf, sseEvents } from '../api/support.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_VIDEO_MODEL, writeTestVideoModel } from '../helpers/test-video-model.ts';
import { ffprobe } from '../media/probe.ts';
import { startTestStack } from './test-stack.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

const MODEL = 'test-video';
const FPS = TEST_VIDEO_MODEL.video.fps;
/** A size large enough that a clip of many steps takes seconds: room to cancel in the middle. */
const SLOW: readonly [number, number] = [256, 256];

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const bytes = async (url: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, { headers });
  expect(response.ok, url).toBe(true);
  return { response, body: Buffer.from(await response.arrayBuffer()) };
};

const webpFrames = async (webp: Buffer) => (await sharp(webp, { pages: -1 }).metadata()).pages;

/**
 * Video through the embedded stack (`ditserve serve`): the HTTP API, the worker on its sampler
 * thread and the webhook dispatcher over the local folder adapters, with the closed-form test
 * video model beside the shipped image model.
 */
describe('video generation end to end (embedded stack, test video model)', () => {
  let stack: Embedded;

  beforeAll(async () => {
    const videoDir = await writeTestVideoModel(join(await tempDir(), 'video'), { sizes: [SLOW] });
    stack = await startTestStack({
      modelDirs: [MODEL_DIR, videoDir],
      // The tests poll the jobs they follow.
      limits: { requestsPerSecond: 1000, burst: 1000 },
    });
    await stack.ready;
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  const submit = async (body: Record<string, unknown>) => {
    const response = await fetch(`${stack.url}/v1/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'a red circle moving left', ...body }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as GenerationView;
  };
  const read = async (id: string) => {
    const response = await fetch(`${stack.url}/v1/generations/${id}`);
    expect(response.status).toBe(200);
    return (await response.json()) as GenerationView;
  };
  const finished = (id: string) =>
    until(`${id} to end`, async () => {
      const view = await read(id);
      return ['queued', 'running'].includes(view.status) ? undefined : view;
    });

  it('submit → SSE progress → succeeded: an MP4 ffprobe reads, a WebP sharp reads, a signed webhook with the video URLs', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { secret } = (await (await fetch(`${stack.url}/v1/webhooks/secret`)).json()) as {
        secret: string;
      };
      // Slow enough (~2 s) for SSE to show it running, with progress written at least once.
      const job = await submit({
        width: SLOW[0],
        height: SLOW[1],
        frames: 10,
        steps: 30,
        seed: 3,
        webhook: { url: receiver.url },
      });
      expect(job.modality).toBe('video');
      const sse = await fetch(job.links.events, { headers: { accept: 'text/event-stream' } });
      const states: GenerationView[] = [];
      let last = '';
      for await (const event of sseEvents(sse.body ?? new ReadableStream())) {
        last = event.event;
        if (event.data) states.push(JSON.parse(event.data) as GenerationView);
      }
      expect(last).toBe('done');
      expect(states.at(-1)?.status).toBe('succeeded');
      expect(states.some((s) => s.status === 'running')).toBe(true);
      expect(states.some((s) => (s.progress?.step ?? 0) > 0)).toBe(true);

      const view = await read(job.id);
      const [output] = view.outputs;
      expect(output?.content_type).toBe('video/mp4');
      expect(output?.video).toMatchObject({ frames: 10, fps: FPS, duration_seconds: 10 / FPS });
      const mp4 = await bytes(output?.video?.mp4?.url ?? '');
      expect(mp4.response.headers.get('content-type')).toBe('video/mp4');
      expect(mp4.response.headers.get('accept-ranges')).toBe('bytes');
      const probe = await ffprobe(mp4.body);
      expect(probe.streams[0]).toMatchObject({
        codec_name: 'h264',
        pix_fmt: 'yuv420p',
        nb_read_frames: '10',
        r_frame_rate: `${FPS}/1`,
      });
      // The parameters travel in the container's comment tag.
      expect(JSON.parse(probe.format.tags?.comment ?? '{}')).toMatchObject({
        seed: '3',
        frames: '10',
      });
      expect(await webpFrames((await bytes(output?.video?.webp.url ?? '')).body)).toBe(10);
      const thumb = await sharp((await bytes(output?.video?.thumbnail.url ?? '')).body).metadata();
      expect([thumb.format, thumb.width, thumb.height]).toEqual(['png', ...SLOW]);
      // Seeking: a range of the MP4 comes back as 206 with exactly those bytes.
      const part = await bytes(output?.video?.mp4?.url ?? '', { range: 'bytes=100-199' });
      expect(part.response.status).toBe(206);
      expect(part.response.headers.get('content-range')).toBe(`bytes 100-199/${mp4.body.length}`);
      expect(part.body.equals(mp4.body.subarray(100, 200))).toBe(true);

      const hook = await until('the succeeded webhook', () =>
        Promise.resolve(receiver.received.find((r) => r.body.includes('"generation.succeeded"'))),
      );
      const payload = new Webhook(secret).verify(hook.body, {
        'webhook-id': String(hook.headers['webhook-id']),
        'webhook-timestamp': String(hook.headers['webhook-timestamp']),
        'webhook-signature': String(hook.headers['webhook-signature']),
      }) as { data: { id: string; outputs: EventOutput[] } };
      expect(payload.data.id).toBe(job.id);
      const [event] = payload.data.outputs;
      expect(event).toMatchObject({ content_type: 'video/mp4', video: { frames: 10, fps: FPS } });
      // Every URL of the event downloads the file it names.
      const fromHook = await bytes(event?.video?.mp4?.url ?? '');
      expect(fromHook.body.equals(mp4.body)).toBe(true);
      expect((await bytes(event?.url ?? '')).body.equals(mp4.body)).toBe(true);
      expect(await webpFrames((await bytes(event?.video?.webp.url ?? '')).body)).toBe(10);
      expect(
        (await bytes(event?.video?.thumbnail.url ?? '')).response.headers.get('content-type'),
      ).toBe('image/png');
    } finally {
      await receiver.close();
    }
  });

  it('image-to-video: the init image is the first frame', async () => {
    const png = Buffer.from(await pngOf(64, 48)).toString('base64');
    const job = await submit({ frames: 6, steps: 4, init_image: `data:image/png;base64,${png}` });
    const view = await finished(job.id);
    expect(view.status).toBe('succeeded');
    expect(view.input.image_to_video).toBe(true);
    const [output] = view.outputs;
    expect((await ffprobe((await bytes(output?.url ?? '')).body)).streams[0]?.nb_read_frames).toBe(
      '6',
    );
    const thumb = await sharp((await bytes(output?.video?.thumbnail.url ?? '')).body)
      .raw()
      .toBuffer();
    // pngOf is one colour, (200, 30, 30); frame 0 is its VAE round trip.
    expect(Math.abs((thumb[0] ?? 0) - 200)).toBeLessThan(24);
    expect(Math.abs((thumb[2] ?? 0) - 30)).toBeLessThan(24);
  });

  it('extension of a previous generation: returns exactly the frames asked for', async () => {
    const source = await finished((await submit({ frames: 8, steps: 4 })).id);
    expect(source.status).toBe('succeeded');
    const job = await submit({ extend: source.id, frames: 6, steps: 4 });
    const view = await finished(job.id);
    expect(view.status).toBe('succeeded');
    expect(view.input.extend).toBe(source.id);
    const [output] = view.outputs;
    expect(output?.video?.frames).toBe(6);
    expect((await ffprobe((await bytes(output?.url ?? '')).body)).streams[0]?.nb_read_frames).toBe(
      '6',
    );
    expect(await webpFrames((await bytes(output?.video?.webp.url ?? '')).body)).toBe(6);
  });

  it('cancel mid-clip: the job ends canceled within a step of the cancel being seen, no outputs', async () => {
    const steps = 100;
    const job = await submit({ width: SLOW[0], height: SLOW[1], frames: 12, steps });
    const running = await until('progress', async () => {
      const view = await read(job.id);
      return (view.progress?.step ?? 0) > 0 ? view : undefined;
    });
    const asked = Date.now();
    const cancel = await fetch(job.links.cancel, { method: 'POST' });
    expect(cancel.status).toBeLessThan(300);
    const view = await finished(job.id);
    const took = Date.now() - asked;
    expect(view.status).toBe('canceled');
    expect(view.outputs).toEqual([]);
    // Seen at the next progress write (at most 1 s apart), then stopped at the next step; the
    // whole clip would have taken several seconds more.
    expect(took).toBeLessThan(5_000);
    expect(view.timings.completed_at).toBeDefined();
    expect(running.progress?.total).toBe(steps);
  });

  it('the openai package: client.videos.create → retrieve (polled) → downloadContent, through the worker', async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'local-mode-needs-no-key' });
    const created = await openai.videos.create({
      model: MODEL,
      prompt: 'a blue square moving up',
      seconds: '1' as '4',
      size: '8x8' as '720x1280',
    });
    expect(created).toMatchObject({ object: 'video', status: 'queued', seconds: '1' });
    const done = await until('the video to complete', async () => {
      const video = await openai.videos.retrieve(created.id);
      return ['queued', 'in_progress'].includes(video.status) ? undefined : video;
    });
    expect(done).toMatchObject({ status: 'completed', progress: 100, size: '8x8' });
    const content = await openai.videos.downloadContent(created.id);
    expect(content.headers.get('content-type')).toBe('video/mp4');
    const probe = await ffprobe(Buffer.from(await content.arrayBuffer()));
    expect(probe.streams[0]?.nb_read_frames).toBe(String(FPS));
    const webp = await openai.videos.downloadContent(created.id, { variant: 'webp' as 'video' });
    expect(await webpFrames(Buffer.from(await webp.arrayBuffer()))).toBe(FPS);
  });
});
