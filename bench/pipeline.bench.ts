/**
 * Pipeline overhead on the embedded default (functions/local/embedded.ts `startEmbedded`: API +
 * worker + dispatcher in one process over the local filesystem adapters, shipped model on the
 * CPU): for each of N sequential jobs, the client's submit → succeeded latency minus the
 * sampler's own time (the job's `timings.inference_ms`), median and p99.
 *
 * Each job is one `POST /v1/generations` with `Prefer: wait=60`, which answers when the job is
 * terminal; the wait re-reads the job every pollIntervalMs, so the API's default (250 ms) would
 * add up to 250 ms of pure polling to every job. The main run uses pollIntervalMs 5 (a stack
 * option); a short second run with the default shows what the poll interval costs.
 *
 *   npx tsx bench/pipeline.bench.ts [--jobs 50] [--default-jobs 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../core/logger.ts';
import { startEmbedded } from '../functions/local/embedded.ts';
import { machine, median, quantile, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    'default-jobs': { type: 'string', default: '10' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
  },
});

interface Sample {
  totalMs: number;
  inferenceMs: number;
  queueMs: number;
  overheadMs: number;
}

async function run(jobs: number, pollIntervalMs: number | undefined): Promise<Sample[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-pipeline-bench-'));
  const stack = await startEmbedded({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    modelDirs: [values.model],
    device: 'cpu',
    workers: 1,
    maxBatchImages: 1,
    requireKeys: false,
    allowLoopbackWebhooks: false,
    limits: { requestsPerSecond: 1e6, burst: 1e6, maxQueuedPerTenant: 1e6 },
    logger: silentLogger,
    pollWaitSeconds: 1,
    pollIntervalMs,
  });
  await stack.ready;
  const samples: Sample[] = [];
  try {
    for (let i = -2; i < jobs; i++) {
      const start = performance.now();
      const response = await fetch(`${stack.url}/v1/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'wait=60' },
        body: JSON.stringify({ prompt: 'a red circle left of a blue square', seed: 100 + i }),
      });
      const job = (await response.json()) as {
        status: string;
        timings: { inference_ms?: number; queue_ms?: number };
      };
      const totalMs = performance.now() - start;
      if (job.status !== 'succeeded')
        throw new Error(`job ended ${job.status} (HTTP ${response.status})`);
      if (i < 0) continue; // two warm-up jobs
      const inferenceMs = job.timings.inference_ms ?? NaN;
      samples.push({
        totalMs,
        inferenceMs,
        queueMs: job.timings.queue_ms ?? NaN,
        overheadMs: totalMs - inferenceMs,
      });
    }
  } finally {
    await stack.stop(5_000);
    await rm(dataDir, { recursive: true, force: true });
  }
  return samples;
}

const summary = (name: string, s: Sample[]) => ({
  name,
  jobs: s.length,
  overheadMsMedian: round(median(s.map((x) => x.overheadMs))),
  overheadMsP99: round(
    quantile(
      s.map((x) => x.overheadMs),
      0.99,
    ),
  ),
  totalMsMedian: round(median(s.map((x) => x.totalMs))),
  inferenceMsMedian: round(median(s.map((x) => x.inferenceMs))),
  queueMsMedian: round(median(s.map((x) => x.queueMs))),
});
const fast = summary('pollIntervalMs 5', await run(Number(values.jobs), 5));
const slow = summary(
  'pollIntervalMs default (250)',
  await run(Number(values['default-jobs']), undefined),
);
const rows = [fast, slow];
report(
  'pipeline',
  `${table([
    [
      'run',
      'jobs',
      'overhead p50 ms',
      'overhead p99 ms',
      'total p50 ms',
      'inference p50 ms',
      'queue p50 ms',
    ],
    ...rows.map((r) => [
      r.name,
      r.jobs,
      r.overheadMsMedian,
      r.overheadMsP99,
      r.totalMsMedian,
      r.inferenceMsMedian,
      r.queueMsMedian,
    ]),
  ])}\n\nsequential jobs, one image each at the model's defaults, POST with Prefer: wait=60, CPU worker`,
  {
    machine: await machine(),
    method: 'sequential POST /v1/generations with Prefer: wait=60',
    rows,
  },
);
