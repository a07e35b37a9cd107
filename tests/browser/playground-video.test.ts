import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedded } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_VIDEO_MODEL, writeTestVideoModel } from '../helpers/test-video-model.ts';
import { launchBrowser, pageErrors, playgroundModel } from './browser.ts';

/**
 * The playground with a video model beside the image model (as `npm start` serves the shipped
 * two): picking the video model shows its Frames field, and a clip comes back as a playing video.
 * The closed-form test models make both in milliseconds.
 */
interface PageVideo {
  readonly readyState: number;
  readonly duration: number;
  readonly videoWidth: number;
  readonly src: string;
}

const VIDEO = 'test-video';
const { fps } = TEST_VIDEO_MODEL.video;

describe('the playground with a video model, in headless Chromium', () => {
  let stack: Embedded;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const video = await writeTestVideoModel(join(await tempDir(), 'video'), { sizes: [[32, 32]] });
    stack = await startTestStack({
      modelDirs: [await playgroundModel(), video],
      pollIntervalMs: 50,
    });
    await stack.ready;
    const browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    await page.locator(`#model option[value="${VIDEO}"]`).waitFor({ state: 'attached' });
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  it('shows Frames for the video model only, with its range and default', async () => {
    expect(await page.locator('#frames').isVisible()).toBe(false);
    await page.selectOption('#model', VIDEO);
    expect(await page.locator('#frames').isVisible()).toBe(true);
    const { min, max, multiple_of: multipleOf } = TEST_VIDEO_MODEL.video.frames;
    expect(await page.locator('#frames').inputValue()).toBe(
      String(TEST_VIDEO_MODEL.defaults.frames),
    );
    expect(await page.locator('#frames-help').innerText()).toContain(
      `${String(min)}–${String(max)}, a multiple of ${String(multipleOf)}`,
    );
  });

  it('makes a clip of the asked frames and shows it as a video that loads', async () => {
    await page.selectOption('#model', VIDEO);
    await page.selectOption('#size', '32x32');
    await page.fill('#prompt', 'a red circle moving left');
    await page.fill('#frames', '8');
    await page.click('#submit');
    await expect
      .poll(() => page.locator('#status').innerText(), { timeout: 30_000 })
      .toMatch(/^(Succeeded|Refused|Failed|Canceled|Expired|Could not)/);
    expect(await page.locator('#status').innerText()).toMatch(/^Succeeded/);
    const video = page.locator('#grid video').first();
    await expect
      .poll(() => video.evaluate((v: PageVideo) => v.readyState), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
    const shown = await video.evaluate((v: PageVideo) => ({
      src: v.src,
      width: v.videoWidth,
      duration: v.duration,
    }));
    expect(shown.src).toMatch(/\.mp4\?/);
    expect(shown.width).toBe(32);
    expect(shown.duration).toBeCloseTo(8 / fps, 1);
    expect(errors).toEqual([]);
  });

  it('takes Frames away again for the image model, and sends no frames', async () => {
    await page.selectOption('#model', { index: 0 });
    expect(await page.locator('#frames').isVisible()).toBe(false);
    await page.click('#copy-curl');
    expect(await page.locator('#curl').innerText()).not.toContain('frames');
  });
});
