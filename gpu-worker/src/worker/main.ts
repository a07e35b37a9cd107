import { read, readOptional } from '../../../core/config.ts';
import { SETTINGS } from '../../../core/settings.ts';
import { backendFromEnv } from '../../../core/backend/from-env.ts';
import { jsonLogger } from '../../../core/logger.ts';
import type { DeviceOption } from '../model-contract/index.ts';
import type { RunnerChoice } from '../runner/index.ts';
import { stepGraphFor, type Batching } from './context.ts';
import { healthAddress, startHealthServer } from './health.ts';
import { emfLine } from './metrics.ts';
import { openSampler } from './open-sampler.ts';
import { warnRunnerFallbacks, type Sampler } from './sampler-port.ts';
import type { WorkerEvent, WorkerState } from './state.ts';
import { startSweeper } from './sweeper-loop.ts';
import { logH264Availability } from './video-outputs.ts';
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
  const device = read(env, SETTINGS.device) as DeviceOption;
  const emf =
    env[SETTINGS.emf.env] === undefined
      ? read(env, SETTINGS.backend) === 'aws'
      : read(env, SETTINGS.emf);
  const logger = jsonLogger('gpu-worker');
  const log = (event: WorkerEvent) => {
    const line = emf ? emfLine(event) : undefined;
    if (line) process.stdout.write(`${line}\n`);
    else if (event.type === 'error')
      logger.error(event.message, { ...event, error: String(event.error) });
    else logger.info(event.type, { ...event });
  };
  log({ type: 'state', state: 'starting' });
  // Health answers from the first second (ECS start period); the worker exists once models load.
  const current: { state: WorkerState; worker?: Worker } = { state: 'starting' };
  const health = await startHealthServer(
    read(env, SETTINGS.healthPort),
    () => current.worker?.state ?? current.state,
    healthAddress(read(env, SETTINGS.healthHost)),
  );
  const visibilitySeconds = read(env, SETTINGS.visibilitySeconds);
  const maxAttempts = read(env, SETTINGS.maxAttempts);
  const sweepSeconds = read(env, SETTINGS.sweepSeconds);
  const requeueAfterSeconds = read(env, SETTINGS.requeueSeconds);
  const backend = await backendFromEnv(env, { visibilitySeconds });
  const batching = read(env, SETTINGS.batching) as Batching;

  const loading = openSampler(read(env, SETTINGS.modelDirs).split(','), {
    device,
    threads: readOptional(env, SETTINGS.threads),
    runner: read(env, SETTINGS.runner) as RunnerChoice,
    opsDir: readOptional(env, SETTINGS.opsDir),
    stepGraph: stepGraphFor(batching),
  });
  const first = await Promise.race([loading, stop]);
  if (typeof first === 'string') {
    // Stopped before taking any work: nothing to drain.
    current.state = 'stopped';
    // A load that failed has nothing to release; the stop is what was asked for.
    await loading.then((s: Sampler) => s.release()).catch(() => undefined);
    health.close();
    return;
  }
  const sampler = first;
  warnRunnerFallbacks(sampler, logger);
  const ffmpeg = read(env, SETTINGS.ffmpeg);
  await logH264Availability(sampler, ffmpeg, logger);
  const worker = new Worker({
    jobs: backend.jobs,
    queue: backend.queue,
    blobs: backend.blobs,
    outbox: backend.outbox,
    sampler,
    maxBatchImages: read(env, SETTINGS.batchSize),
    batching,
    visibilitySeconds,
    pollWaitSeconds: read(env, SETTINGS.pollSeconds),
    maxAttempts,
    retryDelaySeconds: read(env, SETTINGS.retryDelaySeconds),
    ffmpeg,
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
  const drainMs = read(env, SETTINGS.drainSeconds) * 1000;
  await sweeper?.stop();
  await worker.stop(drainMs);
  current.state = 'stopped';
  await sampler.release();
  health.close();
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
