import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsJobStore } from '../../core/adapters/local/fs-job-store.ts';
import { ApiClient } from './client.ts';
import { compactRecord, runScenario, type RunSize, type ScenarioReport } from './harness.ts';
import {
  freePort,
  MODEL_DIR,
  ProcessGroup,
  REPO_ROOT,
  registerCleanup,
  type Managed,
} from './processes.ts';
import { startWebhookLedger } from './webhook-ledger.ts';

/** Settings of the embedded scenario's processes (the deadlines derive from them). */
export const EMBEDDED_SETTINGS = {
  /** Of the separate worker processes, and of `serve` where it reads DITSERVE_VISIBILITY_SECONDS. */
  visibilitySeconds: 4,
  /**
   * A `serve` that does not read it (its help does not name it) holds a job's message and lease
   * for the stack's default, 60 s: a killed `serve` delays the jobs it held by that much.
   */
  serveDefaultVisibilitySeconds: 60,
  pollSeconds: 1,
  sweepSeconds: 5,
  requeueSeconds: 10,
  maxAttempts: 3,
  workers: 2,
  maxBatchImages: 8,
} as const;

/**
 * The embedded default under kills: one `ditserve serve` (API + its worker loop + webhook
 * dispatcher over a data folder, what `npm start` runs) SIGKILLed and restarted on the same
 * port, plus two separate worker processes on the same data folder (as tests/e2e/crash.test.ts)
 * SIGKILLed and restarted at seeded moments.
 */
export async function runEmbeddedScenario(
  size: RunSize,
  log: (message: string) => void = () => undefined,
): Promise<ScenarioReport> {
  const t0 = Date.now();
  const s = EMBEDDED_SETTINGS;
  const steps: (() => Promise<void>)[] = [];
  const group = new ProcessGroup();
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-reliability-'));
    steps.push(registerCleanup(() => rm(dataDir, { recursive: true, force: true })));
    const ledger = await startWebhookLedger();
    steps.push(registerCleanup(() => ledger.close()));
    steps.push(registerCleanup(() => group.killAll()));
    // Which job-path settings this `serve` takes from the environment.
    const help = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bin/ditserve.ts', 'serve', '--help'],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    ).stdout;
    const serveVisibility = help.includes('DITSERVE_VISIBILITY_SECONDS')
      ? s.visibilitySeconds
      : s.serveDefaultVisibilitySeconds;
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const common = {
      DITSERVE_THREADS: '1',
      DITSERVE_SWEEP_SECONDS: String(s.sweepSeconds),
      DITSERVE_REQUEUE_SECONDS: String(s.requeueSeconds),
      NODE_NO_WARNINGS: '1',
    };
    const server = {
      slot: 'serve',
      async start(): Promise<Managed> {
        const p = group.spawn(
          'serve',
          [
            '--import',
            'tsx',
            'bin/ditserve.ts',
            'serve',
            '--data-dir',
            dataDir,
            '--port',
            String(port),
          ],
          {
            ...common,
            DITSERVE_DEVICE: 'cpu',
            DITSERVE_BATCH_SIZE: String(s.maxBatchImages),
            DITSERVE_VISIBILITY_SECONDS: String(s.visibilitySeconds),
            DITSERVE_POLL_SECONDS: String(s.pollSeconds),
          },
        );
        await p.waitForText(
          'ditserve serving with its worker ready',
          /ditserve: worker ready/,
          120_000,
        );
        return p;
      },
    };
    const worker = (slot: string) => ({
      slot,
      async start(): Promise<Managed> {
        const p = group.spawn(slot, ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'], {
          ...common,
          DITSERVE_BACKEND: 'local',
          DITSERVE_DATA_DIR: dataDir,
          DITSERVE_PUBLIC_URL: baseUrl,
          DITSERVE_MODEL_DIRS: MODEL_DIR,
          DITSERVE_DEVICE: 'cpu',
          DITSERVE_HEALTH_PORT: '0',
          DITSERVE_VISIBILITY_SECONDS: String(s.visibilitySeconds),
          DITSERVE_POLL_SECONDS: String(s.pollSeconds),
          DITSERVE_BATCH_SIZE: String(s.maxBatchImages),
          DITSERVE_MAX_ATTEMPTS: String(s.maxAttempts),
          DITSERVE_DRAIN_SECONDS: '5',
          DITSERVE_EMF: 'false',
        });
        await p.waitForLine(
          'the worker ready',
          (l) => l.type === 'state' && l.state === 'ready',
          120_000,
        );
        return p;
      },
    });
    const workers = Array.from({ length: s.workers }, (_, i) => worker(`worker-${i + 1}`));
    // serve first: it creates the data folder's signing secret that the workers share.
    await server.start();
    await Promise.all(workers.map((w) => w.start()));
    const client = new ApiClient({ baseUrl });
    const secret = await client.request<{ secret: string }>('GET', '/v1/webhooks/secret');
    ledger.setSecret(secret.body.secret);
    log(`up after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const store = new FsJobStore({ root: dataDir });
    return await runScenario({
      name: 'embedded-crash',
      size,
      group,
      client,
      ledger,
      workers,
      server,
      // serve runs a worker loop too: first right after it finishes a job, then mid-job, then
      // at random (a job it held waits out serveVisibilitySeconds).
      serverKillModes: ['after_finished', 'after_started', 'random'],
      // serve logs worker events as `{"message":"worker job_started","type":"job_started",…}`.
      workerLinePrefixes: ['worker-', 'serve'],
      settings: {
        visibilitySeconds: Math.max(serveVisibility, s.visibilitySeconds),
        sweepSeconds: s.sweepSeconds,
        requeueSeconds: s.requeueSeconds,
        sweeperVisibilitySeconds: s.visibilitySeconds,
        maxAttempts: s.maxAttempts,
        jobBoundSeconds: 15,
        consumers: s.workers + 1,
        maxBatchImages: s.maxBatchImages,
        receiveStallSeconds: 0,
      },
      readRecord: async (id) => compactRecord(await store.get('local', id)),
      t0,
      log,
    });
  } finally {
    for (const step of steps.reverse()) await step();
  }
}
