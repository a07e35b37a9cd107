import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { localBackend } from '../../core/backend/local.ts';
import type { GenerationData } from '../../core/generation.ts';
import { isTerminal } from '../../core/job.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { createApp } from '../../functions/api/app.ts';
import { MODEL_DIR } from '../api/harness.ts';
import { tempDir } from '../helpers/temp-dir.ts';

interface WorkerLine {
  type?: string;
  jobId?: string;
  status?: string;
  step?: number;
}

/** A real worker process (the ECS entry point) on the shared data folder; its events on stdout. */
function spawnWorker(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'], {
    env: {
      ...process.env,
      DITSERVE_BACKEND: 'local',
      DITSERVE_DATA_DIR: dataDir,
      DITSERVE_MODEL_DIRS: MODEL_DIR,
      DITSERVE_DEVICE: 'cpu',
      DITSERVE_HEALTH_PORT: '0',
      // Short, so that the dead worker's messages come back within seconds.
      DITSERVE_VISIBILITY_SECONDS: '3',
      DITSERVE_POLL_SECONDS: '1',
      DITSERVE_BATCH_SIZE: '8',
      DITSERVE_DRAIN_SECONDS: '20',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: WorkerLine[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as WorkerLine);
    } catch {
      // not an event line
    }
  });
  return { child, lines };
}

async function waitFor(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const finished = (lines: WorkerLine[], id: string) =>
  lines.filter((l) => l.type === 'job_finished' && l.jobId === id && l.status === 'succeeded')
    .length;

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('crash safety', () => {
  it('a worker SIGKILLed mid-batch loses nothing: every job ends succeeded exactly once', async () => {
    const dataDir = await tempDir('ditserve-crash-');
    const backend = await localBackend({ dataDir, publicUrl: 'http://127.0.0.1:8080' });
    const app = createApp({
      ...backend,
      models: await loadModelCatalog([MODEL_DIR]),
      auth: { kind: 'open', tenant: 'local' },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.request('/v1/generations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // 100 steps: long enough that the kill lands mid-batch on any machine.
        body: JSON.stringify({ prompt: `${i + 1} red circles`, steps: 100, seed: i }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const read = (id: string) => backend.jobs.get<GenerationData>('local', id);

    const first = spawnWorker(dataDir);
    // Mid-batch: the worker has reported progress on a job, and none has finished.
    await waitFor(
      'progress in the first worker',
      () => first.lines.some((l) => l.type === 'job_progress' && (l.step ?? 0) > 0),
      90_000,
    );
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const runningAtKill = (await Promise.all(ids.map(read))).filter((j) => j.status === 'running');
    expect(runningAtKill.length).toBeGreaterThan(0);
    expect(ids.every((id) => finished(first.lines, id) === 0)).toBe(true);

    const second = spawnWorker(dataDir);
    await waitFor(
      'every job terminal',
      async () => (await Promise.all(ids.map(read))).every((j) => isTerminal(j.status)),
      120_000,
    );
    second.child.kill('SIGTERM');
    expect(await exitOf(second.child)).toBe(0);

    for (const id of ids) {
      const job = await read(id);
      expect(job.status).toBe('succeeded');
      expect(job.data.outputs).toHaveLength(1);
      // The second worker took over a job the first had started: attempts counts both.
      expect(finished(first.lines, id) + finished(second.lines, id)).toBe(1);
      const blob = await backend.blobs.get(job.data.outputs?.[0]?.key ?? '');
      expect(blob.bytes.byteLength).toBeGreaterThan(100);
    }
    expect(
      (await Promise.all(runningAtKill.map((j) => read(j.id)))).every(
        (j) => (j.data.attempts ?? 0) >= 2,
      ),
    ).toBe(true);
  });
});
