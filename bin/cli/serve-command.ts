import { parseArgs } from 'node:util';
import { readBool, readInt, readString } from '../../core/config.ts';
import { DEVICE_OPTIONS, type DeviceOption } from '../../gpu-worker/src/model-contract/index.ts';
import { jsonLogger } from '../../functions/api/logger.ts';
import { startLocalStack } from '../../functions/local/stack.ts';
import { DEFAULT_MODEL_DIR } from './generate-args.ts';
import { UsageError } from './usage-error.ts';

export const SERVE_HELP = `Usage: ditserve serve [options]      (npm start -- [options])

Runs the whole pipeline on this machine: the HTTP API, the worker (the model on the CPU by
default) and the webhook dispatcher, over a local data folder. No cloud account needed.

Options (option, then environment variable, then default):
  -p, --port <n>            port to listen on            PORT / DITSERVE_PORT     8080
      --host <addr>         address to bind              DITSERVE_HOST            127.0.0.1
  -d, --data-dir <dir>      jobs, queues, images, keys   DITSERVE_DATA_DIR        ./data
  -m, --model <dir>         model folder (repeatable)    DITSERVE_MODEL_DIRS      ${DEFAULT_MODEL_DIR}
      --device <name>       ${DEVICE_OPTIONS.join(' | ')}            DITSERVE_DEVICE          cpu
      --threads <n>         CPU threads per model part   DITSERVE_THREADS         all cores
      --workers <n>         worker loops in this process DITSERVE_WORKERS         1
      --batch-size <n>      most images per sampler batch DITSERVE_BATCH_SIZE     8
      --require-keys        ask for API keys even on loopback (always on elsewhere)
                                                         DITSERVE_REQUIRE_KEYS    false
      --allow-local-webhooks  allow http://localhost webhook URLs
                                                         DITSERVE_ALLOW_LOCAL_WEBHOOKS true
  -h, --help                show this help

Job path (environment only):
  DITSERVE_VISIBILITY_SECONDS  how long a received job stays hidden (lease)    60
  DITSERVE_SWEEP_SECONDS       seconds between sweeps for lost jobs (0: off)   60
  DITSERVE_REQUEUE_SECONDS     a queued job waiting this long is sent again    600

API keys: ditserve keys create --tenant <name>   (same --data-dir)
`;

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'data-dir': { type: 'string', short: 'd' },
        model: { type: 'string', short: 'm', multiple: true },
        device: { type: 'string' },
        threads: { type: 'string' },
        workers: { type: 'string' },
        'batch-size': { type: 'string' },
        'require-keys': { type: 'boolean' },
        'allow-local-webhooks': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (try: ditserve serve --help)`);
  }
}

/** Resolves on the first SIGTERM or SIGINT; installed before anything slow starts. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        resolve(signal);
      });
    }
  });
}

export async function serveCommand(argv: readonly string[], env = process.env): Promise<number> {
  const stop = stopSignal();
  const v = parse(argv);
  if (v.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const device = readString(env, 'DITSERVE_DEVICE', { option: v.device, default: 'cpu' });
  if (!(DEVICE_OPTIONS as readonly string[]).includes(device)) {
    throw new UsageError(`--device must be one of ${DEVICE_OPTIONS.join(', ')}, got "${device}"`);
  }
  const port = readInt(env, env.PORT !== undefined ? 'PORT' : 'DITSERVE_PORT', {
    option: v.port,
    default: 8080,
    min: 0,
    max: 65535,
  });
  const threads =
    env.DITSERVE_THREADS || v.threads
      ? readInt(env, 'DITSERVE_THREADS', { option: v.threads, min: 1, max: 256 })
      : undefined;
  const logger = jsonLogger('ditserve');
  const modelDirs =
    v.model ?? readString(env, 'DITSERVE_MODEL_DIRS', { default: DEFAULT_MODEL_DIR }).split(',');
  const stack = await startLocalStack({
    host: readString(env, 'DITSERVE_HOST', { option: v.host, default: '127.0.0.1' }),
    port,
    dataDir: readString(env, 'DITSERVE_DATA_DIR', { option: v['data-dir'], default: './data' }),
    modelDirs,
    device: device as DeviceOption,
    threads,
    workers: readInt(env, 'DITSERVE_WORKERS', { option: v.workers, default: 1, min: 0, max: 16 }),
    maxBatchImages: readInt(env, 'DITSERVE_BATCH_SIZE', {
      option: v['batch-size'],
      default: 8,
      min: 1,
      max: 64,
    }),
    requireKeys: readBool(env, 'DITSERVE_REQUIRE_KEYS', {
      option: v['require-keys'],
      default: false,
    }),
    allowLoopbackWebhooks: readBool(env, 'DITSERVE_ALLOW_LOCAL_WEBHOOKS', {
      option: v['allow-local-webhooks'],
      default: true,
    }),
    visibilitySeconds: readInt(env, 'DITSERVE_VISIBILITY_SECONDS', {
      default: 60,
      min: 3,
      max: 43_200,
    }),
    sweepSeconds: readInt(env, 'DITSERVE_SWEEP_SECONDS', { default: 60, min: 0, max: 3600 }),
    requeueAfterSeconds: readInt(env, 'DITSERVE_REQUEUE_SECONDS', {
      default: 600,
      min: 1,
      max: 86_400,
    }),
    logger,
    onWorkerEvent: (event) => {
      if (event.type === 'error') logger.error(event.message, { error: String(event.error) });
      else if (event.type !== 'job_progress') logger.info(`worker ${event.type}`, { ...event });
    },
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`port ${port} is already in use; pick another with --port (or PORT)`);
    }
    throw error;
  });
  const auth =
    stack.auth.kind === 'open'
      ? `No API key needed: local mode on loopback, every request acts as tenant "${stack.auth.tenant}".\n` +
        `  (Bind another address, or pass --require-keys, to require keys: ditserve keys create --tenant NAME)\n`
      : `API keys required: create one with  npx ditserve keys create --tenant NAME --data-dir ${stack.dataDir}\n`;
  const bearer = stack.auth.kind === 'open' ? '' : " -H 'authorization: Bearer dsk_…'";
  process.stderr.write(
    `\nditserve is listening on ${stack.url}  (data: ${stack.dataDir}, device: ${device})\n${auth}` +
      `Loading the model… /healthz answers now; jobs start once the worker is ready.\n\n` +
      `First request:\n` +
      `  curl -s ${stack.url}/v1/generations${bearer} -H 'content-type: application/json' -H 'prefer: wait=60' \\\n` +
      `    -d '{"prompt": "a red circle left of a blue square"}'\n` +
      `Then open the output URL it returns. API reference: ${stack.url}/docs\n\n`,
  );
  const loaded = await Promise.race([
    stack.ready.then(
      () => 'ready' as const,
      async (error: unknown) => {
        // The model did not load: close the listener too, or the process would linger half-up.
        await stack.stop(0).catch(() => undefined);
        throw error;
      },
    ),
    stop,
  ]);
  if (loaded === 'ready') {
    process.stderr.write(`ditserve: worker ready (${modelDirs.join(', ')} on ${device}).\n`);
    await stop;
  }
  process.stderr.write(`ditserve: ${await stop}: draining…\n`);
  await stack.stop(30_000);
  return 0;
}
