import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { atFileEnd } from './file-cleanup.ts';

export interface Moto {
  readonly endpoint: string;
  /** Path-style, us-east-1, dummy credentials: what our config builds for a moto endpoint. */
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'moto_server not found: install it with `pip install "moto[server]"`';

function findMotoServer(): string {
  const candidates = [
    process.env.MOTO_SERVER,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'moto_server')),
    '/root/.pyenv/shims/moto_server',
  ];
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) throw new Error(INSTALL_HINT);
  return found;
}

/** A port nobody listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(100);
  }
  throw new Error(`moto_server did not answer at ${endpoint} within 30 s`);
}

/** Starts a real moto_server on a free port and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = spawn(findMotoServer(), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const spawned = new Promise<never>((_, reject) => {
    child.once('error', (error) => {
      reject(new Error(`${INSTALL_HINT} (${error.message})`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    s3.destroy();
    sqs.destroy();
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  };
  const common = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sqs = new SQSClient(common);
  try {
    await Promise.race([waitUntilAnswering(endpoint, child), spawned]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, s3, sqs, stop };
}

/** One moto_server for the calling test file, stopped after its last test. */
export async function motoForThisFile(): Promise<Moto> {
  const moto = await startMoto();
  atFileEnd(() => moto.stop());
  return moto;
}
