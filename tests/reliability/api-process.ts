/**
 * The API + webhook dispatcher of the AWS scenario, as one child process (so that it can be
 * SIGKILLed and restarted): the embedded stack with no worker loops, on the AWS adapters from
 * the environment (DITSERVE_BUCKET, DITSERVE_JOBS_QUEUE_URL, DITSERVE_WEBHOOK_QUEUE_URL,
 * AWS_ENDPOINT_URL = the fault proxy). Prints one JSON line `{"type":"api_listening","url":…}`
 * once it serves; SIGTERM stops it gracefully.
 *
 *   node --import tsx tests/reliability/api-process.ts
 *   env: PORT (0 = any), DITSERVE_DATA_DIR, DITSERVE_VISIBILITY_SECONDS, DITSERVE_POLL_SECONDS,
 *        DITSERVE_SWEEP_SECONDS, DITSERVE_REQUEUE_SECONDS (the stack's sweeper stands in for the
 *        deployment's scheduled one)
 */
import { tmpdir } from 'node:os';
import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { jsonLogger } from '../../core/logger.ts';
import { startEmbedded } from '../../functions/local/embedded.ts';
import { MODEL_DIR } from './processes.ts';
import { serveUntilSignal } from './serve-until-signal.ts';

const env = process.env;
const visibilitySeconds = Number(env.DITSERVE_VISIBILITY_SECONDS ?? '30');
const optional = (name: string) => (env[name] ? Number(env[name]) : undefined);
const stack = await startEmbedded({
  dataDir: env.DITSERVE_DATA_DIR ?? tmpdir(),
  backend: () => Promise.resolve(awsBackendFromEnv(env, { visibilitySeconds })),
  host: '127.0.0.1',
  port: Number(env.PORT ?? '0'),
  modelDirs: [env.DITSERVE_MODEL_DIRS ?? MODEL_DIR],
  device: 'cpu',
  workers: 0,
  maxBatchImages: 8,
  requireKeys: false,
  allowLoopbackWebhooks: true,
  logger: jsonLogger('reliability-api'),
  pollWaitSeconds: Number(env.DITSERVE_POLL_SECONDS ?? '1'),
  visibilitySeconds,
  sweepSeconds: optional('DITSERVE_SWEEP_SECONDS'),
  requeueAfterSeconds: optional('DITSERVE_REQUEUE_SECONDS'),
});
await serveUntilSignal(stack);
