import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedded } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { TEST_MODEL } from '../helpers/test-model.ts';
import { artifactPath, launchBrowser, pageErrors, playgroundModel } from './browser.ts';

/**
 * The playground driven as a person would, on the embedded stack. The model is the closed-form
 * test model (images in milliseconds) unless DITSERVE_PLAYGROUND_MODEL names a model folder
 * (docs/playground.md's screenshot was taken with the shipped one).
 */
/**
 * The few DOM names that the functions run in the page use: these tests typecheck with Node's
 * types only (the functions are serialized and run in Chromium).
 */
interface PageElement {
  id: string;
  value: number;
  complete: boolean;
  naturalWidth: number;
  labels?: { length: number } | null;
}
declare const document: {
  getElementById(id: string): PageElement;
  activeElement: PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};
declare const window: { progressSeen: number[] };
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: PageElement, options: { attributes: boolean }): void;
}

describe('the playground in headless Chromium', () => {
  let stack: Embedded;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    const model = await playgroundModel();
    stack = await startTestStack({ modelDirs: [model], pollIntervalMs: 50 });
    await stack.ready;
    const browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = pageErrors(page);
    await page.goto(`${stack.url}/`);
    // The model list came from GET /v1/models.
    await page.locator('#model option').first().waitFor({ state: 'attached' });
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  /** Every value the progress bar takes from now on, recorded in the page. */
  async function recordProgress(): Promise<() => Promise<number[]>> {
    await page.evaluate(() => {
      const bar = document.getElementById('progress');
      const seen: number[] = [];
      window.progressSeen = seen;
      new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true });
    });
    return () => page.evaluate(() => [...window.progressSeen]);
  }

  /** Waits for the grid to hold `count` loaded images; returns the first one's seed and bytes. */
  async function newestImage(count: number) {
    // The status line says how the request ended; a refusal fails here with its reason.
    await expect
      .poll(() => page.locator('#status').innerText(), { timeout: 30_000 })
      .toMatch(/^(Succeeded|Refused|Failed|Canceled|Expired|Could not)/);
    expect(await page.locator('#status').innerText()).toMatch(/^Succeeded/);
    expect(await page.locator('#grid img').count()).toBe(count);
    const img = page.locator('#grid img').first();
    await expect
      .poll(() => img.evaluate((e: PageElement) => e.complete && e.naturalWidth > 0))
      .toBe(true);
    const src = (await img.getAttribute('src')) ?? '';
    const seed =
      (await page.locator('#grid button.reuse-seed').first().getAttribute('data-seed')) ?? '';
    const bytes = Buffer.from(await (await fetch(src)).arrayBuffer());
    return { seed, bytes };
  }

  it('types a prompt, shows progress until it succeeds, and shows the image', async () => {
    await page.locator('#prompt').fill('a red circle');
    const progress = await recordProgress();
    await page.locator('#submit').click();
    const first = await newestImage(1);

    await expect.poll(() => page.locator('#status').innerText()).toMatch(/^Succeeded/);
    const values = await progress();
    // From 0 at submit to 100 at the end, never backwards (steps in between as the stream saw them).
    expect(values[0]).toBe(0);
    expect(values.at(-1)).toBe(100);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(await page.locator('#progress').getAttribute('value')).toBe('100');
    expect(Number(first.seed)).toBeGreaterThanOrEqual(0);
    // The status line is a live region, announced to screen readers.
    expect(await page.locator('#status').getAttribute('aria-live')).toBe('polite');

    const path = artifactPath('playground.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot of the playground: ${path}`);
  });

  it('reuses a seed: the same prompt and seed make the same image again', async () => {
    const before = await newestImage(1);
    await page.locator('#grid button.reuse-seed').first().click();
    expect(await page.locator('#seed').inputValue()).toBe(before.seed);
    // The seed field has the focus, ready to edit.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('seed');
    await page.locator('#submit').click();
    const again = await newestImage(2);
    expect(again.seed).toBe(before.seed);
    expect(again.bytes.equals(before.bytes)).toBe(true);
  });

  it('shows the API’s field error beside the field, with what is allowed', async () => {
    await page.locator('#steps').fill('1000');
    await page.locator('#submit').click();
    const error = page.locator('#steps-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.innerText()).toMatch(/allowed/i);
    expect(await page.locator('#steps').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('steps');
    // The other fields are not blamed.
    expect(await page.locator('#prompt-error').isHidden()).toBe(true);
    // Fixed, the error goes away with the next request.
    await page.locator('#steps').fill(String(TEST_MODEL.defaults.steps));
    await page.locator('#submit').click();
    await newestImage(3);
    expect(await error.isHidden()).toBe(true);
  });

  it('copies the request as a curl command that the API accepts', async () => {
    await page.locator('#prompt').fill('a green triangle');
    await page.locator('#seed').fill('7');
    await page.locator('#copy-curl').click();
    const command = await page.locator('#curl').innerText();
    expect(command).toContain(`${stack.url}/v1/generations`);
    // Asynchronously: the API answering it runs in this very process.
    const { stdout } = await promisify(execFile)('bash', ['-c', command], { encoding: 'utf8' });
    const answer = JSON.parse(stdout) as {
      status: string;
      input: { prompt: string; seed: number; steps: number };
    };
    expect(answer.status).toBe('queued');
    expect(answer.input).toMatchObject({ prompt: 'a green triangle', seed: 7 });
    expect(answer.input.steps).toBe(Number(await page.locator('#steps').inputValue()));
  });

  it('works from the keyboard alone: Ctrl+Enter in the prompt generates', async () => {
    const count = await page.locator('#grid img').count();
    await page.locator('#prompt').focus();
    await page.keyboard.press('Control+Enter');
    await newestImage(count + 1);
    const path = artifactPath('playground-grid.png');
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot of the playground after five generations: ${path}`);
    // Every control has a label.
    const unlabeled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter((e) => !e.labels?.length)
        .map((e) => e.id),
    );
    expect(unlabeled).toEqual([]);
  });

  it('loaded nothing the Content Security Policy refused, and threw no errors', () => {
    // The one error answer asked for (the 422 of the field-error test) is logged by Chromium.
    const expected = 'Failed to load resource: the server responded with a status of 422';
    expect(errors.filter((e) => !e.startsWith(expected))).toEqual([]);
  });
});
