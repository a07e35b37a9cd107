import { join } from 'node:path';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { FsKeyStore } from '../../core/adapters/local/fs-key-store.ts';
import { FsMessageQueue } from '../../core/adapters/local/fs-message-queue.ts';
import type { WebhookEventMessage } from '../../core/generation.ts';
import { jsonLogger } from '../../core/logger.ts';
import { startEmbedded, type EmbeddedOptions } from '../../functions/local/embedded.ts';
import { ProcessGroup, freePort } from '../reliability/processes.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeTestModel } from '../helpers/test-model.ts';

/** A running local deployment that asks for API keys, with one tenant's key issued. */
export interface KeyedStack {
  readonly name: string;
  /** Where to send requests (loopback, whatever the bind address). */
  readonly url: string;
  readonly dataDir: string;
  readonly tenant: string;
  readonly key: string;
  /** Keys of further tenants (tenant-ssrf-1 …), to spread requests over their rate limits. */
  readonly moreKeys: readonly string[];
  /** Every log line the stack wrote so far. */
  readonly logs: string[];
  /** The stack's outbox (the data folder's), to hand its dispatcher events directly. */
  readonly outbox: FsMessageQueue<WebhookEventMessage>;
  stop(): Promise<void>;
}

export const TENANT = 'tenant-ssrf';

/**
 * The keyed local modes: `ditserve serve --require-keys` as a user starts it (every other
 * setting at its default, `--allow-local-webhooks` included), and the embedded stack with keys
 * required on loopback and bound beyond loopback (0.0.0.0), each with the local-webhooks switch
 * on, as the CLI passes it by default. No worker loop: what is checked here is the API and the
 * dispatcher.
 */
export const KEYED_MODES: readonly {
  readonly name: string;
  readonly start: () => Promise<KeyedStack>;
}[] = [
  { name: 'ditserve serve --require-keys', start: () => startServe(['--require-keys']) },
  {
    name: 'embedded, keys required on loopback',
    start: () => startKeyedInProcess({ host: '127.0.0.1', requireKeys: true }),
  },
  {
    name: 'embedded, bound to 0.0.0.0',
    start: () => startKeyedInProcess({ host: '0.0.0.0', requireKeys: false }),
  },
];

const MORE_TENANTS = 5;

async function prepare() {
  const dataDir = await tempDir('ditserve-security-');
  const modelDir = await writeTestModel(join(dataDir, 'model'));
  const keys = new FsKeyStore({ root: dataDir });
  const { key } = await issueApiKey(keys, TENANT, 'security test');
  const moreKeys: string[] = [];
  for (let i = 1; i <= MORE_TENANTS; i++) {
    moreKeys.push((await issueApiKey(keys, `${TENANT}-${String(i)}`, 'security test')).key);
  }
  return { dataDir, modelDir, key, moreKeys };
}

function outboxOf(dataDir: string): FsMessageQueue<WebhookEventMessage> {
  return new FsMessageQueue<WebhookEventMessage>({ dir: join(dataDir, 'queues', 'webhooks') });
}

/** The embedded stack in this process, keys required (the bind or requireKeys must say so). */
export async function startKeyedInProcess(
  options: Pick<EmbeddedOptions, 'host' | 'requireKeys' | 'webhookAllowHosts'>,
): Promise<KeyedStack> {
  const { dataDir, modelDir, key, moreKeys } = await prepare();
  const logs: string[] = [];
  const stack = await startEmbedded({
    ...options,
    dataDir,
    port: 0,
    modelDirs: [modelDir],
    device: 'cpu',
    workers: 0,
    maxBatchImages: 8,
    allowLoopbackWebhooks: true,
    logger: jsonLogger('security', (line) => logs.push(line)),
    pollWaitSeconds: 1,
    sweepSeconds: 0,
  });
  if (stack.auth.kind !== 'keys') throw new Error(`${options.host} should require keys`);
  return {
    name: `embedded on ${options.host}`,
    url: `http://127.0.0.1:${stack.port}`,
    dataDir,
    tenant: TENANT,
    key,
    moreKeys,
    logs,
    outbox: outboxOf(dataDir),
    stop: () => stack.stop(1000),
  };
}

async function startServe(flags: readonly string[]): Promise<KeyedStack> {
  const { dataDir, modelDir, key, moreKeys } = await prepare();
  const port = await freePort();
  const group = new ProcessGroup();
  const serve = group.spawn(
    'serve',
    [
      '--import',
      'tsx',
      'bin/ditserve.ts',
      'serve',
      ...flags,
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--workers',
      '0',
      '--model',
      modelDir,
    ],
    { DITSERVE_SWEEP_SECONDS: '0', NODE_NO_WARNINGS: '1' },
  );
  await serve.waitForText('serve ready', /ditserve: API ready \(no worker here\)/, 60_000);
  return {
    name: `serve ${flags.join(' ')}`,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    tenant: TENANT,
    key,
    moreKeys,
    get logs() {
      return [...serve.lines.map((l) => JSON.stringify(l.line)), ...serve.rawTail];
    },
    outbox: outboxOf(dataDir),
    stop: () => group.killAll(5000),
  };
}
