import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { MODEL_DIR } from '../api/harness.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('the worker process', () => {
  it('exits 0 on SIGTERM that arrives while it loads its model (not killed by the signal)', async () => {
    const dataDir = await tempDir('ditserve-signals-');
    const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'], {
      env: {
        ...process.env,
        DITSERVE_BACKEND: 'local',
        DITSERVE_DATA_DIR: dataDir,
        DITSERVE_MODEL_DIRS: MODEL_DIR,
        DITSERVE_HEALTH_PORT: '0',
        DITSERVE_POLL_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const states: string[] = [];
    const lines = createInterface({ input: child.stdout });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    // The first line comes once the handlers are in place, before the model starts loading.
    for await (const line of lines) {
      const event = JSON.parse(line) as { type?: string; state?: string };
      if (event.type === 'state' && event.state) states.push(event.state);
      if (event.state === 'starting') {
        child.kill('SIGTERM');
        break;
      }
    }
    const [code, signal] = await exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(states[0]).toBe('starting');
  });
});
