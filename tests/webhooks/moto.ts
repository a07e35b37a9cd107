import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll } from 'vitest';

// TODO: switch to tests/helpers/moto.ts once the adapters' helper lands.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Starts `moto_server` on a free port for this test file; its endpoint URL. */
export async function startMoto(): Promise<string> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError = error));
  afterAll(() => {
    child.kill();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return endpoint;
    } catch {
      // Not listening yet.
    }
    if (spawnError) throw spawnError;
    if (Date.now() > deadline) throw new Error('moto_server did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
