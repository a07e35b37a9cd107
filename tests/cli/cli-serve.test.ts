import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ditserve, serveProcess } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('ditserve keys', () => {
  it('creates a key shown once, lists it without the secret, and revokes it', async () => {
    const dataDir = await tempDir();
    const created = await ditserve(
      'keys',
      'create',
      '--tenant',
      'acme',
      '--data-dir',
      dataDir,
      '--json',
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; tenant: string };
    expect(key.key).toMatch(/^dsk_[0-9a-f]{12}_/);
    expect(key.tenant).toBe('acme');

    const listed = await ditserve('keys', 'list', '--data-dir', dataDir);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).not.toContain(key.key);

    expect((await ditserve('keys', 'revoke', key.id, '--data-dir', dataDir)).code).toBe(0);
    const after = JSON.parse(
      (await ditserve('keys', 'list', '--data-dir', dataDir, '--json')).stdout,
    ) as {
      revoked_at?: string;
    }[];
    expect(after[0]?.revoked_at).toBeDefined();
  });

  it('says what is missing with exit code 2', async () => {
    const run = await ditserve('keys', 'create');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--tenant');
  });
});

describe('ditserve serve (npm start)', () => {
  it('lists every option in --help', async () => {
    const run = await ditserve('serve', '--help');
    expect(run.code).toBe(0);
    for (const option of [
      '--port',
      '--data-dir',
      '--model',
      '--workers',
      '--batch-size',
      '--device',
      '--require-keys',
    ]) {
      expect(run.stdout).toContain(option);
    }
  });

  it('rejects an unknown option with exit code 2', async () => {
    const run = await ditserve('serve', '--prot', '9000');
    expect(run.code).toBe(2);
  });

  it('listens, answers /healthz, prints a first request, and exits 0 on SIGTERM', async () => {
    const dataDir = await tempDir();
    const served = serveProcess(['serve', '--port', '0', '--data-dir', dataDir]);
    await served.waitFor('worker ready');
    expect(served.url()).toMatch(/^http:\/\//);
    expect(served.stderr()).toContain('curl -s');
    expect(served.stderr()).toContain('No API key needed');
    const health = await fetch(`${served.url()}/healthz`);
    expect(health.status).toBe(200);
    served.child.kill('SIGTERM');
    const [code] = (await once(served.child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('stops when `npm start` itself gets SIGTERM (the script execs node, so the signal reaches it)', async () => {
    const dataDir = await tempDir();
    const npm = serveProcess(['start', '--', '--port', '0', '--data-dir', dataDir], {
      command: 'npm',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    await npm.waitFor('worker ready');
    const url = npm.url();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    npm.child.kill('SIGTERM');
    await once(npm.child, 'exit');
    // npm may exit before the server has drained: wait until nothing listens any more.
    const deadline = Date.now() + 60_000;
    let listening = true;
    while (listening && Date.now() < deadline) {
      listening = await fetch(`${url}/healthz`).then(
        () => true,
        () => false,
      );
      if (listening) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listening).toBe(false);
    expect(npm.stderr()).toContain('SIGTERM: draining');
  });
});
