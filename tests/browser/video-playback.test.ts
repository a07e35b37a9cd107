import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAnimatedWebp, encodeMp4 } from '../../gpu-worker/src/media/index.ts';
import { BACKGROUND, movingSquare, squareLeftIn } from '../media/moving-square.ts';
import { launchBrowser, pageErrors } from './browser.ts';

/**
 * The few DOM names that the functions run in the page use: these tests typecheck with Node's
 * types only (the functions are serialized and run in Chromium).
 */
interface PageVideo {
  muted: boolean;
  preload: string;
  src: string;
  currentTime: number;
  readonly readyState: number;
  readonly duration: number;
  readonly videoWidth: number;
  readonly videoHeight: number;
  readonly ended: boolean;
  readonly error: { readonly code: number } | null;
  addEventListener(type: string, listener: () => void, options?: { once: boolean }): void;
  play(): Promise<void>;
  /** Calls back when the next frame is presented (Chromium has it). */
  requestVideoFrameCallback(callback: () => void): number;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(
    type: '2d',
    options: { willReadFrequently: boolean },
  ): {
    drawImage(image: PageVideo, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Iterable<number> };
  } | null;
}
declare const document: {
  createElement(tag: 'video'): PageVideo;
  createElement(tag: 'canvas'): PageCanvas;
  body: { append(node: PageVideo): void };
};
declare class Image {
  src: string;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  decode(): Promise<void>;
}

const FPS = 8;
const clip = movingSquare(128, 128, 16);

describe('the MP4 plays in headless Chromium', () => {
  let server: Server;
  let origin: string;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const format = { width: clip.width, height: clip.height, fps: FPS };
    const files: Record<string, [string, Buffer]> = {
      '/': [
        'text/html',
        Buffer.from(
          '<!doctype html><title>clip</title><link rel="icon" href="data:,"><body></body>',
        ),
      ],
      '/clip.mp4': ['video/mp4', await encodeMp4(clip.frames, format)],
      '/clip.webp': ['image/webp', await encodeAnimatedWebp(clip.frames, format)],
    };
    // Same origin as the page, so the canvas that reads the video's pixels is not tainted.
    server = createServer((req, res) => {
      const file = files[req.url ?? ''];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const [type, body] = file;
      // Browsers seek only in media served with byte ranges; a 200 to every request would leave
      // the <video> at its first frame.
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (!range) {
        res.writeHead(200, {
          'content-type': type,
          'content-length': body.length,
          'accept-ranges': 'bytes',
        });
        res.end(body);
        return;
      }
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      res.writeHead(206, {
        'content-type': type,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'accept-ranges': 'bytes',
      });
      res.end(body.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await launchBrowser();
    page = await browser.newPage();
    errors = pageErrors(page);
    await page.goto(`${origin}/`);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('loads with the clip’s duration and size, and plays to the end', async () => {
    const playback = await page.evaluate(async (src) => {
      const video = document.createElement('video');
      video.muted = true; // headless Chromium plays muted media without a user gesture
      video.preload = 'auto';
      document.body.append(video);
      const settled = (event: string) =>
        new Promise<void>((resolve) => {
          video.addEventListener(event, resolve, { once: true });
          video.addEventListener('error', resolve, { once: true });
        });
      const loaded = settled('loadeddata');
      video.src = src;
      await loaded;
      const { readyState, duration, videoWidth, videoHeight } = video;
      const ended = settled('ended');
      await video.play();
      await ended;
      return {
        readyState,
        duration,
        videoWidth,
        videoHeight,
        ended: video.ended,
        endedAt: video.currentTime,
        error: video.error?.code ?? null,
      };
    }, `${origin}/clip.mp4`);
    expect(playback.error).toBeNull();
    expect(playback.readyState).toBeGreaterThanOrEqual(2); // HAVE_CURRENT_DATA
    expect(playback.duration).toBeCloseTo(16 / FPS, 2);
    expect(playback.videoWidth).toBe(128);
    expect(playback.videoHeight).toBe(128);
    expect(playback.ended).toBe(true);
    expect(playback.endedAt).toBeCloseTo(16 / FPS, 1);
    expect(errors).toEqual([]);
  });

  it('shows each frame at its time: the square where the frame put it, colours kept', async () => {
    const row = clip.top + clip.side / 2;
    const seen = await page.evaluate(
      async ({ src, fps, count, row }) => {
        const video = document.createElement('video');
        video.muted = true;
        video.preload = 'auto';
        const loaded = new Promise<void>((resolve) => {
          video.addEventListener('loadeddata', resolve, { once: true });
        });
        video.src = src;
        await loaded;
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const context = canvas.getContext('2d', { willReadFrequently: true });
        if (!context) throw new Error('no 2d context');
        const rows: number[][] = [];
        for (let i = 0; i < count; i++) {
          const seeked = new Promise<void>((resolve) => {
            video.addEventListener('seeked', resolve, { once: true });
          });
          // 'seeked' can fire before the new frame is presented (seen on a loaded machine: the
          // frame before was drawn): wait for the compositor's frame too. A seek that shows the
          // frame already on screen presents none, hence the bound.
          const presented = new Promise<void>((resolve) => {
            video.requestVideoFrameCallback(() => {
              resolve();
            });
            setTimeout(resolve, 2000);
          });
          video.currentTime = (i + 0.5) / fps; // the middle of frame i
          await seeked;
          await presented;
          context.drawImage(video, 0, 0);
          rows.push([...context.getImageData(0, row, canvas.width, 1).data]);
        }
        return rows;
      },
      { src: `${origin}/clip.mp4`, fps: FPS, count: clip.frames.length, row },
    );
    expect(seen).toHaveLength(16);
    seen.forEach((rgba, i) => {
      const pixels = Uint8Array.from(rgba);
      const left = squareLeftIn(pixels, 128, 4, 0);
      expect(Math.abs(left - clip.left(i)), `frame ${i}: square at ${left}`).toBeLessThanOrEqual(1);
      // A background pixel far from the square: the colour survived RGB → YUV → RGB.
      const far = clip.left(i) > 64 ? 2 : 125;
      for (let c = 0; c < 3; c++) {
        expect(
          Math.abs((pixels[far * 4 + c] ?? 0) - (BACKGROUND[c] ?? 0)),
          `frame ${i}`,
        ).toBeLessThan(8);
      }
    });
  });

  it('shows the animated WebP as an image of the clip’s size', async () => {
    const size = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    }, `${origin}/clip.webp`);
    expect(size).toEqual([128, 128]);
  });
});
