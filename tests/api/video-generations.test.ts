import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { GenerationData } from '../../core/generation.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import type { z } from '@hono/zod-openapi';
import type { Model } from '../../functions/api/schemas/model.ts';
import { completeJob, makeApi } from './harness.ts';
import { expectProblem, fieldProblem, pngOf } from './support.ts';
import { completeVideoJob, VIDEO_MODEL, videoCatalog } from './video-support.ts';

const GEN = '/v1/generations';
const VIDEO = { prompt: 'a red circle moving left', model: VIDEO_MODEL } as const;

async function videoApi() {
  return makeApi({ models: await videoCatalog() });
}

async function params(api: Awaited<ReturnType<typeof videoApi>>, id: string) {
  return (await api.jobs.get<GenerationData>('tenant-alice', id)).data.params;
}

describe('POST /v1/generations with a video model', () => {
  it('queues a video job: modality, the model’s default frames and fps, echoed as input', async () => {
    const api = await videoApi();
    const response = await api.call(api.alice, 'POST', GEN, VIDEO);
    expect(response.status).toBe(202);
    const view = (await response.json()) as GenerationView;
    expect(view.modality).toBe('video');
    expect(view.input).toMatchObject({ frames: 16, fps: 8, duration_seconds: 2 });
    expect(view.input.image_to_video).toBe(false);
    expect(await params(api, view.id)).toMatchObject({ modality: 'video', frames: 16, fps: 8 });
  });

  it('takes frames in the range and on the step; 422 with the range otherwise', async () => {
    const api = await videoApi();
    const ok = await api.call(api.alice, 'POST', GEN, { ...VIDEO, frames: 24, num_images: 2 });
    expect(ok.status).toBe(202);
    for (const frames of [6, 26, 13]) {
      const body = await expectProblem(
        await api.call(api.alice, 'POST', GEN, { ...VIDEO, frames }),
        422,
        'invalid_request',
      );
      expect(fieldProblem(body, 'frames').allowed).toBe(
        '8–24 frames in steps of 2 (1–3 s at 8 fps)',
      );
    }
  });

  it('rounds duration_seconds × fps to the nearest allowed count, refuses one outside the range', async () => {
    const api = await videoApi();
    for (const [seconds, frames] of [
      [1.5, 12],
      [1.3, 10], // 10.4 frames
      [1.375, 12], // 11: a tie, the longer clip
      [3, 24],
    ] as const) {
      const r = await api.call(api.alice, 'POST', GEN, { ...VIDEO, duration_seconds: seconds });
      expect(r.status).toBe(202);
      expect(((await r.json()) as GenerationView).input.frames, String(seconds)).toBe(frames);
    }
    const far = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, duration_seconds: 12 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(far, 'duration_seconds').allowed).toContain('1–3 s');
    const both = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, frames: 8, duration_seconds: 1 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(both, 'duration_seconds').allowed).toBe(
      'either frames or duration_seconds',
    );
  });

  it('fps must be the model’s (422 says which); sizes are the model’s', async () => {
    const api = await videoApi();
    expect((await api.call(api.alice, 'POST', GEN, { ...VIDEO, fps: 8 })).status).toBe(202);
    const fps = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, fps: 24 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(fps, 'fps').allowed).toBe('8');
    const size = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, width: 256, height: 256 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(size, 'width').allowed).toBe('one of 128x128, 192x128, 128x192');
  });

  it('refuses image fields with a video model and video fields with an image model, naming each', async () => {
    const api = await videoApi();
    const image = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, output_format: 'webp' }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(image, 'output_format').message).toContain('image models');
    const video = await expectProblem(
      await api.call(api.alice, 'POST', GEN, {
        prompt: 'a red circle',
        frames: 16,
        fps: 8,
        extend: 'gen_1',
      }),
      422,
      'invalid_request',
    );
    expect(video.errors?.map((e) => e.field)).toEqual(['frames', 'fps', 'extend']);
  });

  it('image-to-video: a base64 PNG/JPEG/WebP (data URL or bare) is checked and stored for the worker', async () => {
    const api = await videoApi();
    const png = Buffer.from(await pngOf(64, 48)).toString('base64');
    const jpeg = (
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#00f' } })
        .jpeg()
        .toBuffer()
    ).toString('base64');
    const webp = (
      await sharp({ create: { width: 24, height: 20, channels: 3, background: '#0f0' } })
        .webp()
        .toBuffer()
    ).toString('base64');
    for (const [init_image, sent, ext, type] of [
      [`data:image/png;base64,${png}`, png, 'png', 'image/png'],
      [jpeg, jpeg, 'jpeg', 'image/jpeg'],
      [`data:image/webp;base64,${webp}`, webp, 'webp', 'image/webp'],
    ] as const) {
      const r = await api.call(api.alice, 'POST', GEN, { ...VIDEO, init_image });
      expect(r.status, await r.clone().text()).toBe(202);
      const view = (await r.json()) as GenerationView;
      expect(view.input.image_to_video).toBe(true);
      const p = await params(api, view.id);
      if (p.modality !== 'video') throw new Error('not video');
      // Stored as sent: the worker decodes it (the API's Lambda has no native image library).
      expect(p.initImageKey).toBe(`jobs/tenant-alice/${view.id}/in/init.${ext}`);
      const stored = await api.blobs.get(p.initImageKey ?? '');
      expect(stored.contentType).toBe(type);
      expect(Buffer.from(stored.bytes).toString('base64')).toBe(sent);
    }
  });

  it('image-to-video: 422 on init_image for what is not a readable, small enough image', async () => {
    const api = await makeApi({
      models: await videoCatalog(),
      limits: { maxInitImageBytes: 2000 },
    });
    const gif = Buffer.from('R0lGODlhAQABAAAAACw=', 'base64').toString('base64');
    const big = Buffer.from(await pngOf(400, 400)).toString('base64');
    // A PNG header that claims 4096 × 8 pixels (the API reads sizes from headers).
    const wide = Buffer.from(await pngOf(8, 8));
    wide.writeUInt32BE(4096, 16);
    const cut = Buffer.from(await pngOf(8, 8))
      .subarray(0, 20)
      .toString('base64');
    for (const [init_image, message] of [
      ['not base64!', 'is not valid base64'],
      ['data:image/gif;base64,R0lGODlh', 'is image/gif'],
      [gif, 'not an image that can be read'],
      [`data:image/png;base64,${big}`, 'is too large'],
      [wide.toString('base64'), 'is 4096x8'],
      [cut, 'not an image that can be read'],
    ] as const) {
      const body = await expectProblem(
        await api.call(api.alice, 'POST', GEN, { ...VIDEO, init_image }),
        422,
        'invalid_request',
      );
      expect(fieldProblem(body, 'init_image').message).toContain(message);
    }
    const both = await expectProblem(
      await api.call(api.alice, 'POST', GEN, {
        ...VIDEO,
        init_image: Buffer.from(await pngOf(8, 8)).toString('base64'),
        extend: 'gen_1',
      }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(both, 'init_image').allowed).toBe('either init_image or extend');
  });

  it('extend: a succeeded video of the same model and tenant; 404, 409 and 422 otherwise', async () => {
    const api = await videoApi();
    const source = (await (
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, width: 192, height: 128 })
    ).json()) as GenerationView;
    const early = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id }),
      409,
      'generation_not_succeeded',
    );
    expect(fieldProblem(early, 'extend')).toBeDefined();
    await completeVideoJob(api.jobs, api.blobs, 'tenant-alice', source.id);

    const r = await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id });
    expect(r.status, await r.clone().text()).toBe(202);
    const view = (await r.json()) as GenerationView;
    // The size is the source's; frames count the new part (16 − 4 context by default).
    expect(view.input).toMatchObject({ width: 192, height: 128, frames: 12, extend: source.id });
    const p = await params(api, view.id);
    expect(p).toMatchObject({
      extendOf: {
        generationId: source.id,
        clip: 0,
        key: `jobs/tenant-alice/${source.id}/out/0.webp`,
        contextFrames: 4,
      },
    });
    // New frames + context must be a clip the model makes: 20 + 4 = 24 is, 22 + 4 is not.
    expect(
      (await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id, frames: 20 })).status,
    ).toBe(202);
    const long = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id, frames: 22 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(long, 'frames').allowed).toContain('4–20 frames');

    await expectProblem(
      await api.call(api.bob, 'POST', GEN, { ...VIDEO, extend: source.id }),
      404,
      'job_not_found',
    );
    const image = (await (
      await api.call(api.alice, 'POST', GEN, { prompt: 'a red circle' })
    ).json()) as GenerationView;
    await completeJob(api.jobs, api.blobs, 'tenant-alice', image.id);
    const wrong = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: image.id }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(wrong, 'extend').allowed).toBe(
      `a video generation of model ${VIDEO_MODEL}`,
    );
    const clip = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id, extend_clip: 2 }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(clip, 'extend_clip').allowed).toBe('0–0');
    const size = await expectProblem(
      await api.call(api.alice, 'POST', GEN, { ...VIDEO, extend: source.id, aspect_ratio: '1:1' }),
      422,
      'invalid_request',
    );
    expect(fieldProblem(size, 'aspect_ratio').allowed).toContain('192x128');
  });

  it('shows a finished clip’s files with URLs, and the note where the MP4 is missing', async () => {
    const api = await videoApi();
    const { id } = (await (await api.call(api.alice, 'POST', GEN, VIDEO)).json()) as GenerationView;
    await completeVideoJob(api.jobs, api.blobs, 'tenant-alice', id, { mp4: false });
    const view = (await (
      await api.call(api.alice, 'GET', `${GEN}/${id}`)
    ).json()) as GenerationView;
    const [clip] = view.outputs;
    expect(clip?.content_type).toBe('image/webp');
    expect(clip?.video).toMatchObject({ frames: 16, fps: 8, duration_seconds: 2 });
    expect(clip?.video?.mp4).toBeUndefined();
    expect(clip?.video?.note).toContain('H.264');
    expect(clip?.video?.webp.url).toMatch(/out\/0\.webp\?expires=/);
    expect(clip?.video?.thumbnail.content_type).toBe('image/png');
  });
});

describe('GET /v1/models with a video model', () => {
  it('shows each model’s modality, and a video model’s frames, fps, image_to_video and extend', async () => {
    const api = await videoApi();
    const { data } = (await (await api.call(api.alice, 'GET', '/v1/models')).json()) as {
      data: z.infer<typeof Model>[];
    };
    expect(data.map((m) => m.modality)).toEqual(['image', 'video']);
    expect(data[0]?.video).toBeUndefined();
    expect(data[1]?.video).toEqual({
      frames: { min: 8, max: 24, multiple_of: 2 },
      fps: 8,
      image_to_video: true,
      extend: true,
      extend_context_frames: 4,
      files: ['mp4', 'webp', 'png'],
    });
    expect(data[1]?.defaults.frames).toBe(16);
    expect(data[1]?.output_formats).toEqual([]);
  });
});
