import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll } from 'vitest';
import { patchJson, writeTestModel } from '../helpers/test-model.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Screenshots and other artifacts of the browser tests (git-ignored). */
export const ARTIFACTS = join(import.meta.dirname, 'artifacts');

/** Debian's chromium (`.ci/run` installs it), found on PATH. */
function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'the browser tests need Chromium: apt-get install -y chromium (.ci/run installs it)',
    );
  }
}

/** A headless Chromium for this test file, closed after it. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--headless'],
  });
  afterAll(async () => {
    await browser.close();
  });
  return browser;
}

/**
 * Collects what the page's console and the browser report as errors, CSP violations included
 * (Chromium logs those to the console), so a test can assert that there were none.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return errors;
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * The model of the playground tests: DITSERVE_PLAYGROUND_MODEL when set (a model folder; the
 * screenshot of docs/playground.md used the shipped one), else the closed-form test model with
 * sizes the API accepts (its own 8×4 is below the API's smallest side): 16×16 and 32×16, a few
 * pixels of latent each, images in milliseconds.
 */
export async function playgroundModel(): Promise<string> {
  const named = process.env.DITSERVE_PLAYGROUND_MODEL;
  if (named) return named;
  const dir = await writeTestModel(await tempDir('ditserve-playground-model-'));
  await patchJson(join(dir, 'model_index.json'), (index) => {
    const ditserve = index.ditserve as { defaults: Record<string, unknown>; sizes: number[][] };
    ditserve.defaults = { ...ditserve.defaults, width: 16, height: 16 };
    ditserve.sizes = [
      [16, 16],
      [32, 16],
    ];
  });
  return dir;
}
