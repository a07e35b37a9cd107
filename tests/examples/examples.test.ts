import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSdk } from '../../sdk/build.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { startSdkStack, type SdkStack } from '../sdk/stack.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PNG = [0x89, 0x50, 0x4e, 0x47];

let withWorker: SdkStack;
let queueOnly: SdkStack;
let outDir: string;

/**
 * Runs an example as its header tells a user to (tsx), against `stack`: the package name
 * `ditserve/client` resolves through package.json `exports` to the built bundle, as it does for
 * any plain Node program. No DITSERVE_API_KEY: the open local mode must take any key or none.
 */
async function runExample(file: string, stack: SdkStack): Promise<string> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    DITSERVE_BASE_URL: stack.url,
    OUT_DIR: outDir,
  };
  delete env.DITSERVE_API_KEY;
  delete env.DITSERVE_WEBHOOK_SECRET;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'examples', file)],
    // A broken example (a webhook that never comes) must not outlive the test.
    { cwd: ROOT, env, encoding: 'utf8', timeout: 50_000 },
  );
  return stdout;
}

/** The generation id on the example's `done …` line. */
function doneId(stdout: string): string {
  const id = /^done (gen_\w+)/m.exec(stdout)?.[1];
  expect(id, stdout).toBeDefined();
  return id ?? '';
}

async function statusOf(stack: SdkStack, id: string): Promise<string> {
  const g = (await (await fetch(`${stack.url}/v1/generations/${id}`)).json()) as {
    status: string;
  };
  return g.status;
}

async function expectPng(path: string): Promise<void> {
  expect([...(await readFile(path)).subarray(0, 4)]).toEqual(PNG);
}

const CASES: Record<string, () => Promise<void>> = {
  'generate.ts': async () => {
    const stdout = await runExample('generate.ts', withWorker);
    const id = doneId(stdout);
    // Which intermediate states it printed depends on the machine; the last one does not.
    expect(stdout).toMatch(/^succeeded\nsaved /m);
    await expectPng(join(outDir, `${id}-0.png`));
    expect(await statusOf(withWorker, id)).toBe('succeeded');
  },
  'list-and-cancel.ts': async () => {
    // No worker: the generation is still queued when the example cancels it.
    const stdout = await runExample('list-and-cancel.ts', queueOnly);
    const id = /^canceled (gen_\w+)$/m.exec(stdout)?.[1] ?? '';
    expect(stdout).toContain(`submitted ${id} (queued)`);
    expect(stdout).toContain(`page 1: ${id} canceled "three green triangles"`);
    expect(await statusOf(queueOnly, id)).toBe('canceled');
  },
  'webhook-receiver-hono.ts': async () => {
    const stdout = await runExample('webhook-receiver-hono.ts', withWorker);
    const id = doneId(stdout);
    expect(stdout).toContain(`generation.succeeded ${id} succeeded`);
    expect(stdout).toContain(`done ${id} generation.succeeded`);
  },
  'webhook-receiver-node.ts': async () => {
    const stdout = await runExample('webhook-receiver-node.ts', withWorker);
    const id = doneId(stdout);
    expect(stdout).toContain(`generation.succeeded ${id} succeeded`);
  },
  'webhook-receiver-express.ts': async () => {
    const stdout = await runExample('webhook-receiver-express.ts', withWorker);
    const id = doneId(stdout);
    expect(stdout).toContain(`generation.succeeded ${id} succeeded`);
    expect(stdout).toContain(`done ${id} generation.succeeded`);
  },
  'openai-sdk.ts': async () => {
    const stdout = await runExample('openai-sdk.ts', withWorker);
    const id = doneId(stdout);
    await expectPng(join(outDir, `${id}.png`));
    expect(stdout).toContain('saved');
    expect(stdout).toContain('refused: 422 invalid_request (prompt)');
    expect(await statusOf(withWorker, id)).toBe('succeeded');
  },
};

describe('examples/ (each one run as a user runs it, against a local ditserve)', () => {
  beforeAll(async () => {
    outDir = await tempDir('ditserve-examples-');
    await buildSdk({ types: false });
    [withWorker, queueOnly] = await Promise.all([startSdkStack(), startSdkStack({ workers: 0 })]);
  });
  afterAll(async () => {
    await Promise.all([withWorker.stop(), queueOnly.stop()]);
  });

  it('every example has a case here', () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.ts'));
    expect(examples.sort()).toEqual(Object.keys(CASES).sort());
  });

  for (const [file, run] of Object.entries(CASES)) it(file, run);

  it('plain Node (no tsx, no TypeScript) imports the built packages by name', async () => {
    const program = [
      "const { Ditserve } = await import('ditserve/client');",
      "const { verifyWebhook } = await import('ditserve/webhooks');",
      `const models = await new Ditserve({ baseUrl: ${JSON.stringify(withWorker.url)} }).models();`,
      'console.log(models.map((m) => m.id).join(), typeof verifyWebhook);',
    ].join('\n');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', program],
      { cwd: ROOT, encoding: 'utf8', timeout: 50_000 },
    );
    expect(stdout.trim()).toBe('test-latents function');
  });
});
