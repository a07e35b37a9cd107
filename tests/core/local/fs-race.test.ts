import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FsJobStore } from '../../../core/adapters/local/fs-job-store.ts';
import { FsMessageQueue } from '../../../core/adapters/local/fs-message-queue.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const WORKER = fileURLToPath(new URL('./fs-race-worker.ts', import.meta.url));
const PROCESSES = 4;
const root = await tempDir('ditserve-race-');

function spawnWorker(args: string[]): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(WORKER, args, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => {
      resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`worker exited with ${code} before it was ready`));
    });
  });
  return { child, ready };
}

/** Starts the workers, releases them together once all are loaded, and collects their results. */
async function race<R>(argsOf: (i: number) => string[]): Promise<R[]> {
  const workers = Array.from({ length: PROCESSES }, (_, i) => spawnWorker(argsOf(i)));
  await Promise.all(workers.map((w) => w.ready));
  const results = workers.map(
    ({ child }) =>
      new Promise<R>((resolve, reject) => {
        child.once('message', (message) => {
          resolve((message as { result: R }).result);
        });
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`worker exited with ${code}`));
        });
      }),
  );
  for (const { child } of workers) child.send('go');
  return Promise.all(results);
}

describe('filesystem adapters across processes', () => {
  it('never delivers a visible message to two processes at once', async () => {
    const dir = await mkdtemp(join(root, 'queue-'));
    const queue = new FsMessageQueue<{ n: number }>({ dir });
    const total = 300;
    for (let n = 0; n < total; n++) await queue.send({ n });
    const got = (await race<{ n: number; receiveCount: number }[]>(() => ['queue', dir])).flat();
    expect(got).toHaveLength(total);
    expect(new Set(got.map((d) => d.n)).size).toBe(total);
    expect(got.every((d) => d.receiveCount === 1)).toBe(true);
  });

  it('lets exactly one process win a put on the same version', async () => {
    const dir = await mkdtemp(join(root, 'jobs-'));
    const store = new FsJobStore({ root: dir });
    const jobs = 40;
    for (let i = 0; i < jobs; i++) {
      await store.create({
        id: `job${i}`,
        tenant: 't1',
        status: 'queued',
        version: 1,
        createdAt: '2026-11-26T10:00:00.000Z',
        data: { winner: '' },
      });
    }
    const wins = await race<string[]>((i) => ['put', dir, `w${i}`, String(jobs)]);
    for (let i = 0; i < jobs; i++) {
      const winners = wins.flatMap((won, w) => (won.includes(`job${i}`) ? [`w${w}`] : []));
      expect(winners).toHaveLength(1);
      const stored = await store.get<{ winner: string }>('t1', `job${i}`);
      expect(stored.version).toBe(2);
      expect(stored.data.winner).toBe(winners[0]);
    }
  });
});
