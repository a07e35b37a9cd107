import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { verifyFileSignature } from '../adapters/local/file-signature.ts';
import { FsBlobStore } from '../adapters/local/fs-blob-store.ts';
import { FsDeliveryLog } from '../adapters/local/fs-delivery-log.ts';
import { FsJobStore } from '../adapters/local/fs-job-store.ts';
import { FsKeyStore } from '../adapters/local/fs-key-store.ts';
import { FsMessageQueue } from '../adapters/local/fs-message-queue.ts';
import type { JobMessage, WebhookEventMessage } from '../generation.ts';
import { SETTINGS } from '../settings.ts';
import type { Backend } from './types.ts';

export interface LocalBackendOptions {
  readonly dataDir: string;
  /** Origin of the local API, for signed file URLs (e.g. http://127.0.0.1:8080). */
  readonly publicUrl: string;
  readonly visibilitySeconds?: number | undefined;
}

/** The secret behind local signed file URLs, made once per data folder and shared by processes. */
async function signingSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'file-signing.key');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    // 'wx': when two processes start at once, the first secret wins and both read it back.
    await writeFile(path, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' }).catch(
      () => undefined,
    );
    return (await readFile(path, 'utf8')).trim();
  }
}

/** Everything in one data folder; several processes on one host may share it. */
export async function localBackend(options: LocalBackendOptions): Promise<Backend> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const secret = await signingSecret(dataDir);
  return {
    kind: 'local',
    jobs: new FsJobStore({ root: dataDir }),
    queue: new FsMessageQueue<JobMessage>({
      dir: join(dataDir, 'queues', 'jobs'),
      visibilitySeconds: options.visibilitySeconds ?? SETTINGS.visibilitySeconds.default,
      deadLetter: { dir: join(dataDir, 'queues', 'jobs-dead-letter'), maxReceives: 5 },
    }),
    outbox: new FsMessageQueue<WebhookEventMessage>({
      dir: join(dataDir, 'queues', 'webhooks'),
      deadLetter: { dir: join(dataDir, 'queues', 'webhooks-dead-letter'), maxReceives: 10 },
    }),
    blobs: new FsBlobStore({
      root: join(dataDir, 'blobs'),
      baseUrl: options.publicUrl,
      signingSecret: secret,
    }),
    keys: new FsKeyStore({ root: dataDir }),
    deliveryLog: new FsDeliveryLog(dataDir),
    verifyFile: (key, expires, sig, now) => verifyFileSignature(secret, key, expires, sig, now),
  };
}
