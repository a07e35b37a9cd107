import type { RunnerChoice } from '../../gpu-worker/src/runner/index.ts';
import { parseArgs } from 'node:util';
import { read, readOptional, UsageError } from '../../core/config.ts';
import { configuredPublicUrl } from '../../core/public-url.ts';
import { SETTINGS } from '../../core/settings.ts';
import type { DeviceOption } from '../../gpu-worker/src/model-contract/index.ts';
import { jsonLogger } from '../../core/logger.ts';
import { startEmbedded } from '../../functions/local/embedded.ts';
import type { Batching } from '../../gpu-worker/src/worker/context.ts';
import { modelDirsFrom } from './package-paths.ts';
import { helpLines } from './settings-help.ts';

/** The stack's adapters, loaded only when asked for (the AWS SDK is slow to import). */
async function awsBackend(env: NodeJS.ProcessEnv) {
  const { awsBackendFromEnv } = await import('../../core/backend/aws.ts');
  return awsBackendFromEnv(env);
}

/** The settings `ditserve serve` reads, in the order --help lists them. */
const SERVE_SETTINGS = [
  'backend',
  'port',
  'host',
  'publicUrl',
  'dataDir',
  'modelDirs',
  'device',
  'runner',
  'opsDir',
  'threads',
  'workers',
  'batchSize',
  'batching',
  'ffmpeg',
  'requireKeys',
  'allowLocalWebhooks',
  'webhookAllowHosts',
  'visibilitySeconds',
  'sweepSeconds',
  'requeueSeconds',
  'promptBlocklist',
  'corsOrigins',
] as const;

export const SERVE_HELP = `Usage: ditserve serve [options]      (npm start -- [options])

Runs the whole pipeline on this machine: the HTTP API, the worker (the model on the CPU by
default) and the webhook dispatcher, over a local data folder. No cloud account needed.

Options (flag, then environment variable, then default; docs/settings.md lists them all):
${helpLines(SERVE_SETTINGS, { '--port': '-p', '--data-dir': '-d', '--model': '-m' })}
  -h, --help                     show this help

API keys: ditserve keys create --tenant <name>   (same --data-dir)
`;

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        backend: { type: 'string' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'public-url': { type: 'string' },
        'data-dir': { type: 'string', short: 'd' },
        model: { type: 'string', short: 'm', multiple: true },
        device: { type: 'string' },
        runner: { type: 'string' },
        threads: { type: 'string' },
        workers: { type: 'string' },
        'batch-size': { type: 'string' },
        batching: { type: 'string' },
        'require-keys': { type: 'boolean' },
        'allow-local-webhooks': { type: 'boolean' },
        'webhook-allow-hosts': { type: 'string' },
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
  const device = read(env, SETTINGS.device, v.device) as DeviceOption;
  const port = read(env, SETTINGS.port, v.port);
  const logger = jsonLogger('ditserve');
  const modelDirs = modelDirsFrom(env, v.model);
  const aws = read(env, SETTINGS.backend, v.backend) === 'aws';
  const workers = aws && v.workers === undefined ? 0 : read(env, SETTINGS.workers, v.workers);
  const stack = await startEmbedded({
    // A deployed stack's bucket and queues: its GPU workers do the work, so none runs here
    // unless asked for, and its key store means keys are always required.
    ...(aws ? { backend: () => awsBackend(env) } : {}),
    host: read(env, SETTINGS.host, v.host),
    // Unset: the address it binds, so links never come from a request's Host header.
    publicUrl: configuredPublicUrl(env, v['public-url']),
    port,
    dataDir: read(env, SETTINGS.dataDir, v['data-dir']),
    modelDirs,
    device,
    threads: readOptional(env, SETTINGS.threads, v.threads),
    runner: read(env, SETTINGS.runner, v.runner) as RunnerChoice,
    opsDir: readOptional(env, SETTINGS.opsDir),
    workers,
    maxBatchImages: read(env, SETTINGS.batchSize, v['batch-size']),
    batching: read(env, SETTINGS.batching, v.batching) as Batching,
    requireKeys: aws || read(env, SETTINGS.requireKeys, v['require-keys']),
    allowLoopbackWebhooks: read(env, SETTINGS.allowLocalWebhooks, v['allow-local-webhooks']),
    webhookAllowHosts: readOptional(env, SETTINGS.webhookAllowHosts, v['webhook-allow-hosts']),
    visibilitySeconds: read(env, SETTINGS.visibilitySeconds),
    sweepSeconds: read(env, SETTINGS.sweepSeconds),
    requeueAfterSeconds: read(env, SETTINGS.requeueSeconds),
    ffmpeg: readOptional(env, SETTINGS.ffmpeg),
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
      : aws
        ? `API keys required (the stack's): npx ditserve keys create --tenant NAME --backend aws\n`
        : `API keys required: create one with  npx ditserve keys create --tenant NAME --data-dir ${stack.dataDir}\n`;
  const bearer = stack.auth.kind === 'open' ? '' : " -H 'authorization: Bearer dsk_…'";
  // Links never follow the Host header: on a wildcard bind they need the address clients use.
  const wildcard = /^http:\/\/(?:0\.0\.0\.0|\[::\])[:/]/.test(stack.url);
  const linksHint =
    wildcard && configuredPublicUrl(env, v['public-url']) === undefined
      ? `Links in answers point at ${stack.url}: set --public-url (DITSERVE_PUBLIC_URL) to the URL clients use.\n`
      : '';
  process.stderr.write(
    `\nditserve is listening on ${stack.url}  (data: ${stack.dataDir}, device: ${device})\n${auth}${linksHint}` +
      (workers === 0
        ? `No worker runs here: jobs wait for the ones that poll the same queue.\n\n`
        : `Loading the model… /healthz answers now; jobs start once the worker is ready.\n\n`) +
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
    process.stderr.write(
      workers === 0
        ? `ditserve: API ready (no worker here).\n`
        : `ditserve: worker ready (${modelDirs.join(', ')} on ${device}).\n`,
    );
    await stop;
  }
  process.stderr.write(`ditserve: ${await stop}: draining…\n`);
  await stack.stop(30_000);
  return 0;
}
