import { AWS_CALLS } from '../../core/backend/aws-clients.ts';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3JobStore } from '../../core/adapters/aws/s3-job-store.ts';
import { createQueueWithDeadLetter } from '../../core/adapters/aws/sqs-queues.ts';
import { startMoto } from '../helpers/moto.ts';
import { ApiClient } from './client.ts';
import { startFaultProxy } from './fault-proxy.ts';
import { compactRecord, runScenario, type RunSize, type ScenarioReport } from './harness.ts';
import { freePort, MODEL_DIR, ProcessGroup, registerCleanup, type Managed } from './processes.ts';
import { startWebhookLedger } from './webhook-ledger.ts';

/** Settings of the AWS scenario's processes (the deadlines derive from them). */
export const AWS_SETTINGS = {
  visibilitySeconds: 4,
  pollSeconds: 1,
  sweepSeconds: 5,
  requeueSeconds: 10,
  maxAttempts: 3,
  workers: 2,
  maxBatchImages: 8,
  /** As deployed (infra/stack.ts): jobs and outbox queues dead-letter after 5 receives. */
  maxReceives: 5,
  faultRate: 0.15,
  /** Past the AWS clients' 10 s per-try deadline (core/backend/aws-clients.ts AWS_CALLS). */
  stallMs: 12_000,
  longPollStallMs: 35_000,
} as const;

/**
 * The AWS adapters under faults: moto_server behind the fault proxy; the API + dispatcher as a
 * child process (tests/reliability/api-process.ts) restarted mid-run; two worker processes
 * (gpu-worker/src/worker/main.ts, DITSERVE_BACKEND=aws, the shipped model on the CPU)
 * SIGKILLed and restarted at seeded moments; clients over HTTP with Idempotency-Keys.
 */
export async function runAwsScenario(
  size: RunSize,
  log: (message: string) => void = () => undefined,
): Promise<ScenarioReport> {
  const t0 = Date.now();
  const s = AWS_SETTINGS;
  const steps: (() => Promise<void>)[] = [];
  const group = new ProcessGroup();
  try {
    const moto = await startMoto();
    steps.push(registerCleanup(() => moto.stop()));
    const ledger = await startWebhookLedger();
    steps.push(registerCleanup(() => ledger.close()));
    const proxy = await startFaultProxy({
      target: moto.endpoint,
      seed: size.seed,
      rate: s.faultRate,
      stallMs: s.stallMs,
      longPollStallMs: s.longPollStallMs,
      enabled: false,
    });
    steps.push(registerCleanup(() => proxy.close()));
    // Processes go first: registered last, run first.
    steps.push(registerCleanup(() => group.killAll()));
    const common = {
      endpoint: proxy.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const sqs = new SQSClient(common);
    steps.push(
      registerCleanup(() => {
        s3.destroy();
        sqs.destroy();
        return Promise.resolve();
      }),
    );
    const bucket = 'ditserve-reliability';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const jobs = await createQueueWithDeadLetter(sqs, 'jobs', {
      maxReceives: s.maxReceives,
      visibilitySeconds: s.visibilitySeconds,
    });
    const hooks = await createQueueWithDeadLetter(sqs, 'webhooks', { maxReceives: s.maxReceives });
    const awsEnv = {
      AWS_ENDPOINT_URL: proxy.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      DITSERVE_BACKEND: 'aws',
      DITSERVE_BUCKET: bucket,
      DITSERVE_JOBS_QUEUE_URL: jobs.queueUrl,
      DITSERVE_WEBHOOK_QUEUE_URL: hooks.queueUrl,
      DITSERVE_VISIBILITY_SECONDS: String(s.visibilitySeconds),
      DITSERVE_POLL_SECONDS: String(s.pollSeconds),
      DITSERVE_SWEEP_SECONDS: String(s.sweepSeconds),
      DITSERVE_REQUEUE_SECONDS: String(s.requeueSeconds),
      NODE_NO_WARNINGS: '1',
    };
    const port = await freePort();
    const server = {
      slot: 'api',
      async start(): Promise<Managed> {
        const p = group.spawn('api', ['--import', 'tsx', 'tests/reliability/api-process.ts'], {
          ...awsEnv,
          PORT: String(port),
        });
        await p.waitForLine('the API listening', (l) => l.type === 'api_listening', 60_000);
        return p;
      },
    };
    const worker = (slot: string) => ({
      slot,
      async start(): Promise<Managed> {
        const p = group.spawn(slot, ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'], {
          ...awsEnv,
          DITSERVE_MODEL_DIRS: MODEL_DIR,
          DITSERVE_DEVICE: 'cpu',
          DITSERVE_THREADS: '1',
          DITSERVE_HEALTH_PORT: '0',
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
    await Promise.all([server.start(), ...workers.map((w) => w.start())]);
    const client = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` });
    const secret = await client.request<{ secret: string }>('GET', '/v1/webhooks/secret');
    ledger.setSecret(secret.body.secret);
    log(`up after ${((Date.now() - t0) / 1000).toFixed(1)} s; faults on`);
    proxy.enabled = true;

    // The raw record straight from moto (no proxy, no faults), for failure reports.
    const store = new S3JobStore({ client: moto.s3, bucket });
    const faultStats = proxy.stats.bind(proxy);
    return await runScenario({
      name: 'aws-faults',
      size,
      group,
      client,
      ledger,
      workers,
      server,
      serverKillModes: ['random'],
      workerLinePrefixes: ['worker-'],
      settings: {
        visibilitySeconds: s.visibilitySeconds,
        sweepSeconds: s.sweepSeconds,
        requeueSeconds: s.requeueSeconds,
        sweeperVisibilitySeconds: s.visibilitySeconds,
        maxAttempts: s.maxAttempts,
        jobBoundSeconds: 20,
        consumers: s.workers,
        maxBatchImages: s.maxBatchImages,
        receiveStallSeconds: AWS_CALLS.longPollTimeoutMs / 1000,
      },
      readRecord: async (id) => compactRecord(await store.get('local', id)),
      faults: faultStats,
      t0,
      log,
    });
  } finally {
    for (const step of steps.reverse()) await step();
  }
}
