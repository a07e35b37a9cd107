import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedded } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { writeTestModel } from '../helpers/test-model.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { artifactPath, launchBrowser, pageErrors } from './browser.ts';

describe('/docs in headless Chromium with every other host blocked', () => {
  let stack: Embedded;
  let page: Page;
  const blocked: string[] = [];

  beforeAll(async () => {
    const model = await writeTestModel(await tempDir('ditserve-docs-model-'));
    // No worker: the page needs only the API.
    stack = await startTestStack({ modelDirs: [model], workers: 0 });
    const browser = await launchBrowser();
    const context = await browser.newContext();
    // The network is this ditserve and nothing else: anything else is aborted and recorded.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(`${stack.url}/`) || url.startsWith('data:')) await route.continue();
      else {
        blocked.push(url);
        await route.abort('internetdisconnected');
      }
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await stack.stop(1_000);
  });

  it('renders every operation, grouped by tag, from files served by ditserve alone', async () => {
    const errors = pageErrors(page);
    await page.goto(`${stack.url}/docs`);
    await page.locator('.opblock').first().waitFor();

    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string; summary: string }>>;
      tags: { name: string }[];
    };
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    // Swagger UI renders one block per operation, with its summary.
    await expect.poll(() => page.locator('.opblock').count()).toBe(operations.length);
    const summaries = await page.locator('.opblock-summary-description').allInnerTexts();
    expect(summaries.sort()).toEqual(operations.map((op) => op.summary).sort());
    const tags = await page.locator('.opblock-tag').allInnerTexts();
    for (const tag of doc.tags)
      expect(
        tags.some((t) => t.startsWith(tag.name)),
        tag.name,
      ).toBe(true);
    // Nothing was left under "default" (operations without a tag).
    expect(tags.some((t) => t.startsWith('default'))).toBe(false);

    const path = artifactPath('docs.png');
    await page.screenshot({ path, fullPage: false });
    console.log(`screenshot of /docs: ${path}`);

    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
