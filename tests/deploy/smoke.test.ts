import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { localBackend } from '../../core/backend/local.ts';
import type { Embedded } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { freePort } from '../helpers/moto.ts';
import { REPO } from '../infra/helpers.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run smoke -- …` is `tsx scripts/smoke.ts …`; run the same as a user's process. */
async function smoke(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      join(REPO, 'node_modules/.bin/tsx'),
      [join(REPO, 'scripts/smoke.ts'), ...args],
      { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scripts/smoke.ts against the embedded default', () => {
  let stack: Embedded;
  let keyed: Embedded;
  let key: string;
  let dataDir: string;

  beforeAll(async () => {
    // The default: loopback, no keys (so a loopback webhook receiver is allowed).
    stack = await startTestStack();
    // Keys required, as on a deployed stack.
    dataDir = await mkdtemp(join(tmpdir(), 'ditserve-smoke-'));
    const backend = await localBackend({ dataDir, publicUrl: 'http://127.0.0.1' });
    key = (await issueApiKey(backend.keys, 'tenant-smoke', 'smoke')).key;
    keyed = await startTestStack({ dataDir, requireKeys: true });
    await Promise.all([stack.ready, keyed.ready]);
  });

  afterAll(async () => {
    await Promise.all([stack.stop(5_000), keyed.stop(5_000)]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('submit → SSE progress → output downloaded → signed webhook received', async () => {
    const port = await freePort();
    const run = await smoke(
      '--url',
      stack.url,
      '--key',
      key,
      '--webhook-url',
      `http://127.0.0.1:${String(port)}/hooks`,
      '--webhook-port',
      String(port),
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    for (const line of [
      '✓ the key is accepted',
      '✓ submit accepted',
      '✓ SSE shows progress',
      '✓ the job succeeded',
      '✓ output downloaded',
      '✓ signed generation.succeeded webhook received and verified',
      'smoke test passed',
    ])
      expect(run.stdout).toContain(line);
  });

  it('with keys required and no --webhook-url: passes, and says the webhook check was skipped and how to enable it', async () => {
    const run = await smoke('--url', keyed.url, '--key', key, '--steps', '4');
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/webhook check skipped: pass --webhook-url/);
  });

  it('a wrong key fails the run with exit status 1 and says which check failed', async () => {
    const run = await smoke('--url', keyed.url, '--key', 'dsk_nope_nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/✗ the key is accepted/);
  });

  it('missing arguments are a usage error (exit status 2)', async () => {
    const run = await smoke('--url', stack.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--url and --key are required/);
  });
});
