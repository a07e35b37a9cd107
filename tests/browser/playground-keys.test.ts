import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { localBackend } from '../../core/backend/local.ts';
import type { Embedded } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { launchBrowser, pageErrors, playgroundModel } from './browser.ts';

/** A stack that asks for keys (as every deployment but the local open mode does). */
describe('the playground against a deployment that needs an API key', () => {
  let stack: Embedded;
  let page: Page;
  let key: string;
  let errors: string[];

  beforeAll(async () => {
    const dataDir = await tempDir('ditserve-keys-');
    stack = await startTestStack({
      dataDir,
      modelDirs: [await playgroundModel()],
      requireKeys: true,
      pollIntervalMs: 50,
    });
    await stack.ready;
    // `ditserve keys create` does the same against the same data folder.
    const backend = await localBackend({ dataDir, publicUrl: stack.url });
    key = (await issueApiKey(backend.keys, 'browser', 'playground test')).key;
    const browser = await launchBrowser();
    page = await browser.newPage();
    errors = pageErrors(page);
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  it('says beside the key field that a key is needed, then works with one, and keeps it', async () => {
    await page.goto(`${stack.url}/playground`);
    const keyError = page.locator('#api-key-error');
    await keyError.waitFor({ state: 'visible' });
    expect(await keyError.innerText()).toMatch(/API key/);
    expect(await page.locator('#api-key').getAttribute('aria-invalid')).toBe('true');

    // Typing the key (and leaving the field) loads the models with it.
    await page.locator('#api-key').fill(key);
    await page.locator('#api-key').press('Tab');
    await page.locator('#model option').first().waitFor({ state: 'attached' });
    await page.locator('#prompt').fill('a blue square');
    await page.locator('#submit').click();
    await expect
      .poll(() => page.locator('#status').innerText(), { timeout: 30_000 })
      .toMatch(/^(Succeeded|Refused|Failed|Canceled|Expired|Could not)/);
    expect(await page.locator('#status').innerText()).toMatch(/^Succeeded/);
    expect(await page.locator('#grid img').count()).toBe(1);

    // The copied command names the key's variable, never the key.
    await page.locator('#copy-curl').click();
    const command = await page.locator('#curl').innerText();
    expect(command).toContain('$DITSERVE_API_KEY');
    expect(command).not.toContain(key);

    // Stored in this browser: a reload needs no typing.
    await page.reload();
    expect(await page.locator('#api-key').inputValue()).toBe(key);
    await page.locator('#model option').first().waitFor({ state: 'attached' });
    expect(await keyError.isHidden()).toBe(true);
  });

  it('logged no error but the 401 it was meant to get', () => {
    const expected = 'Failed to load resource: the server responded with a status of 401';
    expect(errors.filter((e) => !e.startsWith(expected))).toEqual([]);
  });
});
