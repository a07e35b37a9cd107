import type { RunnerChoice } from '../../gpu-worker/src/runner/index.ts';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { localBackend } from '../../core/backend/local.ts';
import { parsePublicUrl } from '../../core/public-url.ts';
import { SETTINGS } from '../../core/settings.ts';
import type { Backend } from '../../core/backend/types.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { checkWebhookUrl, webhookPolicyFor } from '../../core/webhooks/url-policy.ts';
import type { DeviceOption } from '../../gpu-worker/src/model-contract/index.ts';
import {
  DEFAULT_WORKER_SETTINGS,
  stepGraphFor,
  type Batching,
} from '../../gpu-worker/src/worker/context.ts';
import { openSampler } from '../../gpu-worker/src/worker/open-sampler.ts';
import { warnRunnerFallbacks, type Sampler } from '../../gpu-worker/src/worker/sampler-port.ts';
import type { WorkerListener } from '../../gpu-worker/src/worker/state.ts';
import { startSweeper } from '../../gpu-worker/src/worker/sweeper-loop.ts';
import { logH264Availability } from '../../gpu-worker/src/worker/video-outputs.ts';
import { Worker } from '../../gpu-worker/src/worker/worker.ts';
import { createApp } from '../api/app.ts';
import type { ApiLimits, AuthMode } from '../api/deps.ts';
import type { Logger } from '../../core/logger.ts';
import { corsOriginsFromEnv } from '../api/middleware/cors.ts';
import { listen } from '../api/server.ts';
import { policyFromEnv } from '../api/services/prompt-policy.ts';
import { createLocalDispatcher } from '../webhook-dispatcher/local-dispatcher.ts';

export interface EmbeddedOptions {
  readonly dataDir: string;
  /**
   * The adapters; the local folder ones by default. Tests pass the AWS ones (on moto_server) to
   * run the very same in-process API + worker + dispatcher against S3 and SQS.
   */
  readonly backend?: ((publicUrl: string) => Promise<Backend>) | undefined;
  readonly host: string;
  /**
   * Where clients reach this server (DITSERVE_PUBLIC_URL), for links, OpenAPI `servers` and file
   * URLs; its own bind address and port when unset. Never taken from a request's Host header.
   */
  readonly publicUrl?: string | undefined;
  /** 0 picks a free port. */
  readonly port: number;
  readonly modelDirs: readonly string[];
  readonly device: DeviceOption;
  readonly threads?: number | undefined;
  /** The ONNX binding of the workers (DITSERVE_RUNNER). @default 'stock' */
  readonly runner?: RunnerChoice | undefined;
  /** The folder with ditserve's custom-op library builds (DITSERVE_OPS_DIR). */
  readonly opsDir?: string | undefined;
  /** Worker loops in this process (each holds its own model sessions). */
  readonly workers: number;
  readonly maxBatchImages: number;
  /** How the workers take work (DITSERVE_BATCHING). @default 'continuous' */
  readonly batching?: Batching | undefined;
  /**
   * Whether the samplers load their models' step graphs; by default what `batching` implies
   * (stepGraphFor). Benches set it to tell the intake's effect from the shared steps'.
   */
  readonly stepGraph?: boolean | undefined;
  /** Keys even on loopback. */
  readonly requireKeys: boolean;
  /**
   * Let webhooks go to http://localhost (a receiver on this machine) — in the open local mode
   * only (loopback bind, no keys); ignored otherwise (see webhookPolicyFor).
   */
  readonly allowLoopbackWebhooks: boolean;
  /** DITSERVE_WEBHOOK_ALLOW_HOSTS: receivers allowed in any mode although private or loopback. */
  readonly webhookAllowHosts?: string | undefined;
  readonly limits?: Partial<ApiLimits> | undefined;
  readonly logger: Logger;
  readonly onWorkerEvent?: WorkerListener | undefined;
  /** Long-poll length of the worker and dispatcher; short values make stop() quicker. */
  readonly pollWaitSeconds?: number | undefined;
  readonly visibilitySeconds?: number | undefined;
  /** Seconds between sweeper passes (jobs that lost their message); 0 turns it off. @default 60 */
  readonly sweepSeconds?: number | undefined;
  /** A queued job waiting this long gets its message sent again. @default 600 */
  readonly requeueAfterSeconds?: number | undefined;
  /** How often `Prefer: wait` and SSE re-read a job (the API's default, 250 ms, when unset). */
  readonly pollIntervalMs?: number | undefined;
  /** The ffmpeg that writes video jobs' MP4s (DITSERVE_FFMPEG). @default 'ffmpeg' on PATH */
  readonly ffmpeg?: string | undefined;
}

export interface Embedded {
  readonly url: string;
  readonly port: number;
  readonly auth: AuthMode;
  readonly dataDir: string;
  /** Resolves when the models are loaded and the workers poll. */
  readonly ready: Promise<void>;
  readonly workers: readonly Worker[];
  /**
   * Graceful: `Prefer: wait` requests get the job as it is and SSE streams a last `shutdown`
   * event; workers drain (in-flight jobs finish or go back to the queue); then the API closes.
   */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** How long answers in flight may take to finish on stop() before their connections are cut. */
const SHUTDOWN_GRACE_MS = 5000;

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/**
 * The embedded default: API + worker(s) + webhook dispatcher in one process over the local
 * adapters (filesystem store, queues and blobs in one data folder). The API listens first, so
 * /healthz answers while the models load; /readyz and jobs work as soon as the stores do (jobs
 * simply wait in the durable queue until a worker is ready).
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const catalog = await loadModelCatalog(options.modelDirs);
  // The blob store's URLs need the port, known only once listening: the app is built after.
  let handler: (request: Request) => Response | Promise<Response> = () =>
    new Response(null, { status: 503 });
  const server = await listen({ fetch: (request: Request) => handler(request) }, options);
  const publicUrl =
    options.publicUrl === undefined ? server.url : parsePublicUrl(options.publicUrl);
  const backend = options.backend
    ? await options.backend(publicUrl)
    : await localBackend({
        dataDir: options.dataDir,
        publicUrl,
        visibilitySeconds: options.visibilitySeconds,
      });
  const { jobs, queue, outbox, blobs, keys, deliveryLog } = backend;
  const auth: AuthMode =
    isLoopback(options.host) && !options.requireKeys
      ? { kind: 'open', tenant: 'local' }
      : { kind: 'keys' };
  // One policy for both gates: the API at submit and the dispatcher at every delivery.
  const policy = webhookPolicyFor({
    openLocal: auth.kind === 'open',
    allowLocalWebhooks: options.allowLoopbackWebhooks,
    allowHosts: options.webhookAllowHosts,
  });

  // Fired first on stop(): waits and streams answer with the job as it is, then end.
  const shutdown = new AbortController();
  const app = createApp({
    ...backend,
    shutdown: shutdown.signal,
    models: catalog,
    auth,
    publicUrl,
    limits: options.limits,
    logger: options.logger,
    checkWebhookUrl: (url) => checkWebhookUrl(url, policy),
    promptPolicy: policyFromEnv(process.env),
    corsOrigins: corsOriginsFromEnv(process.env),
    playgroundAtRoot: true,
    files: backend.verifyFile && { verify: backend.verifyFile },
    pollIntervalMs: options.pollIntervalMs,
  });
  handler = (request) => app.fetch(request);

  const dispatcher = createLocalDispatcher({
    outbox,
    keys,
    log: deliveryLog,
    policy,
    waitSeconds: options.pollWaitSeconds ?? 5,
    onError: (error) => {
      options.logger.warn('webhook dispatch failed', { error: String(error) });
    },
  });
  dispatcher.start();

  const visibilitySeconds = options.visibilitySeconds ?? DEFAULT_WORKER_SETTINGS.visibilitySeconds;
  const onWorkerEvent = options.onWorkerEvent ?? (() => undefined);
  const sweepSeconds = options.sweepSeconds ?? SETTINGS.sweepSeconds.default;
  const sweeper =
    sweepSeconds > 0
      ? startSweeper(
          backend,
          {
            visibilitySeconds,
            maxAttempts: DEFAULT_WORKER_SETTINGS.maxAttempts,
            requeueAfterSeconds: options.requeueAfterSeconds ?? SETTINGS.requeueSeconds.default,
          },
          sweepSeconds,
          onWorkerEvent,
        )
      : undefined;

  const workers: Worker[] = [];
  const samplers: Sampler[] = [];
  const stopping = { now: false };
  const batching = options.batching ?? DEFAULT_WORKER_SETTINGS.batching;
  const ffmpeg = options.ffmpeg ?? DEFAULT_WORKER_SETTINGS.ffmpeg;
  const ready = (async () => {
    for (let i = 0; i < options.workers; i++) {
      const sampler = await openSampler(options.modelDirs, {
        device: options.device,
        threads: options.threads,
        runner: options.runner,
        opsDir: options.opsDir,
        stepGraph: options.stepGraph ?? stepGraphFor(batching),
      });
      samplers.push(sampler);
      // Every worker loads the same models: the first one speaks for all.
      if (i === 0) {
        warnRunnerFallbacks(sampler, options.logger);
        await logH264Availability(sampler, ffmpeg, options.logger);
      }
      if (stopping.now) return;
      const worker = new Worker({
        jobs,
        queue,
        blobs,
        outbox,
        sampler,
        maxBatchImages: options.maxBatchImages,
        batching,
        pollWaitSeconds: options.pollWaitSeconds ?? DEFAULT_WORKER_SETTINGS.pollWaitSeconds,
        visibilitySeconds,
        ffmpeg,
        onEvent: onWorkerEvent,
      });
      workers.push(worker);
      worker.start();
    }
  })();

  return {
    url: server.url,
    port: server.port,
    auth,
    dataDir: resolve(options.dataDir),
    ready,
    workers,
    async stop(drainTimeoutMs = 30_000) {
      stopping.now = true;
      shutdown.abort();
      await ready.catch(() => undefined);
      await sweeper?.stop();
      await Promise.all(workers.map((w) => w.stop(drainTimeoutMs)));
      await dispatcher.stop();
      // The answers in flight (now short: waits and streams were told) get a moment to finish.
      await server.close(SHUTDOWN_GRACE_MS);
      await Promise.all(samplers.map((s) => s.release()));
    },
  };
}
