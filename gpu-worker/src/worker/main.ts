import { readBool, readInt, readString } from '../../../core/config.ts';
import { backendFromEnv } from '../../../core/backend/from-env.ts';
import { DEVICE_OPTIONS, type DeviceOption } from '../sampler/index.ts';
import { startHealthServer } from './health.ts';
import { emfLine } from './metrics.ts';
import { openSampler } from './open-sampler.ts';
import type { Sampler } from './sampler-port.ts';
import type { WorkerEvent, WorkerState } from './state.ts';
import { startSweeper } from './sweeper-loop.ts';
import { Worker } from './worker.ts';

/** Resolves on the first SIGTERM or SIGINT; installed before anything slow starts. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => {
      resolve('SIGTERM');
    });
    process.once('SIGINT', () => {
      resolve('SIGINT');
    });
  });
}

/**
 * The worker process (the ECS container's entry, and the crash tests' victim). Signals are
 * handled from the first line: a stop during model load exits 0 once the load is undone. Then
 * it polls; SIGTERM (scale-in, Spot interruption) drains: no new work, the batch in flight
 * finishes or goes back to the queue within DITSERVE_DRAIN_SECONDS, exit 0.
 */
async function main(env = process.env): Promise<void> {
  const stop = stopSignal();
  const device = readString(env, 'DITSERVE_DEVICE', { default: 'cpu' });
  if (!(DEVICE_OPTIONS as readonly string[]).includes(device)) {
    throw new Error(`DITSERVE_DEVICE must be one of ${DEVICE_OPTIONS.join(', ')}`);
  }
  const emf = readBool(env, 'DITSERVE_EMF', {
    default: readString(env, 'DITSERVE_BACKEND', { default: 'local' }) === 'aws',
  });
  const log = (event: WorkerEvent) => {
    const line = emf ? emfLine(event) : undefined;
    const fields = event.type === 'error' ? { ...event, error: String(event.error) } : event;
    process.stdout.write(
      `${line ?? JSON.stringify({ level: event.type === 'error' ? 'ERROR' : 'INFO', service: 'gpu-worker', timestamp: new Date().toISOString(), ...fields })}\n`,
    );
  };
  log({ type: 'state', state: 'starting' });
  // Health answers from the first second (ECS start period); the worker exists once models load.
  const current: { state: WorkerState; worker?: Worker } = { state: 'starting' };
  const health = await startHealthServer(
    readInt(env, 'DITSERVE_HEALTH_PORT', { default: 8081, min: 0, max: 65535 }),
    () => current.worker?.state ?? current.state,
  );
  const visibilitySeconds = readInt(env, 'DITSERVE_VISIBILITY_SECONDS', {
    default: 120,
    min: 3,
    max: 43_200,
  });
  const maxAttempts = readInt(env, 'DITSERVE_MAX_ATTEMPTS', { default: 3, min: 1, max: 100 });
  const sweepSeconds = readInt(env, 'DITSERVE_SWEEP_SECONDS', { default: 60, min: 0, max: 3600 });
  const requeueAfterSeconds = readInt(env, 'DITSERVE_REQUEUE_SECONDS', {
    default: 600,
    min: 1,
    max: 86_400,
  });
  const backend = await backendFromEnv(env, { visibilitySeconds });

  const loading = openSampler(
    readString(env, 'DITSERVE_MODEL_DIRS', { default: 'models/shapes-mmdit-s' }).split(','),
    {
      device: device as DeviceOption,
      threads: env.DITSERVE_THREADS
        ? readInt(env, 'DITSERVE_THREADS', { min: 1, max: 256 })
        : undefined,
    },
  );
  const first = await Promise.race([loading, stop]);
  if (typeof first === 'string') {
    // Stopped before taking any work: nothing to drain.
    current.state = 'stopped';
    // A load that failed has nothing to release; the stop is what was asked for.
    await loading.then((s: Sampler) => s.release()).catch(() => undefined);
    health.server.close();
    return;
  }
  const sampler = first;
  const worker = new Worker({
    jobs: backend.jobs,
    queue: backend.queue,
    blobs: backend.blobs,
    outbox: backend.outbox,
    sampler,
    maxBatchImages: readInt(env, 'DITSERVE_BATCH_SIZE', { default: 8, min: 1, max: 64 }),
    visibilitySeconds,
    pollWaitSeconds: readInt(env, 'DITSERVE_POLL_SECONDS', { default: 20, min: 0, max: 20 }),
    maxAttempts,
    retryDelaySeconds: readInt(env, 'DITSERVE_RETRY_DELAY_SECONDS', {
      default: 5,
      min: 0,
      max: 900,
    }),
    onEvent: log,
  });
  current.worker = worker;
  worker.start();
  const sweeper =
    sweepSeconds > 0
      ? startSweeper(
          { ...backend },
          { visibilitySeconds, maxAttempts, requeueAfterSeconds },
          sweepSeconds,
          log,
        )
      : undefined;
  await stop;
  const drainMs =
    readInt(env, 'DITSERVE_DRAIN_SECONDS', { default: 110, min: 0, max: 3600 }) * 1000;
  await sweeper?.stop();
  await worker.stop(drainMs);
  current.state = 'stopped';
  await sampler.release();
  health.server.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `gpu-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
