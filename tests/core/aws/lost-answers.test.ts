import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { S3JobStore } from '../../../core/adapters/aws/s3-job-store.ts';
import { s3Client } from '../../../core/backend/aws-clients.ts';
import { transition } from '../../../core/job.ts';
import { StoreUnavailableError } from '../../../core/ports/job-store.ts';
import { makeApi } from '../../api/harness.ts';
import { motoForThisFile } from '../../helpers/moto.ts';

const moto = await motoForThisFile();
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/**
 * A proxy in front of moto that forwards everything, but for the first request `lose` picks it
 * resets the client's connection after moto answered: the write happened, the caller never
 * hears so, and the AWS SDK retries it.
 */
async function losingProxy(lose: (req: IncomingMessage) => boolean) {
  let lost = 0;
  const target = new URL(moto.endpoint);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (lost === 0 && lose(req)) {
              lost += 1;
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new S3Client({
    endpoint: url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials,
  });
  return { client, lost: () => lost };
}

async function bucket(): Promise<string> {
  const name = `ditserve-${randomBytes(6).toString('hex')}`;
  await moto.s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

const isJobPut = (req: IncomingMessage) =>
  req.method === 'PUT' && /\/jobs\/[^/]+\/[^/]+\/job\.json/.test(req.url ?? '');

const job = (id: string) => ({
  id,
  tenant: 't1',
  status: 'queued' as const,
  version: 1,
  createdAt: '2026-12-01T10:00:00.000Z',
  data: { prompt: 'x' },
});

describe('S3 writes whose answer was lost', () => {
  it('a create the SDK retried after a lost answer is a success, not a duplicate', async () => {
    const name = await bucket();
    const proxy = await losingProxy(isJobPut);
    const store = new S3JobStore({ client: proxy.client, bucket: name });
    await store.create(job('gen_lost'));
    expect(proxy.lost()).toBe(1);
    expect(await store.get('t1', 'gen_lost')).toEqual(job('gen_lost'));
    // A real second create of the same id still conflicts.
    await expect(store.create(job('gen_lost'))).rejects.toMatchObject({ code: 'version_conflict' });
  });

  it('an update the SDK retried after a lost answer is a success, not a lost race', async () => {
    const name = await bucket();
    await new S3JobStore({ client: moto.s3, bucket: name }).create(job('gen_put'));
    const proxy = await losingProxy(isJobPut);
    const store = new S3JobStore({ client: proxy.client, bucket: name });
    const read = await store.get('t1', 'gen_put');
    await store.put(transition(read, 'running', new Date()), read.version);
    expect(proxy.lost()).toBe(1);
    expect((await store.get('t1', 'gen_put')).status).toBe('running');
  });

  it('the API queues the job whose create answer was lost: 202, not a replay, one message', async () => {
    const name = await bucket();
    const proxy = await losingProxy(isJobPut);
    const api = await makeApi({ jobs: new S3JobStore({ client: proxy.client, bucket: name }) });
    const res = await api.call(
      api.alice,
      'POST',
      '/v1/generations',
      { prompt: 'a red circle' },
      { 'idempotency-key': 'only-once' },
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(proxy.lost()).toBe(1);
    const { id } = (await res.json()) as { id: string };
    const messages = await api.queue.receive({ maxMessages: 10 });
    expect(messages.map((m) => m.body.jobId)).toEqual([id]);
  });
});

describe('AWS call deadlines', () => {
  it('a stalled S3 call fails after a bounded number of tries instead of hanging', async () => {
    const sockets: Socket[] = [];
    let requests = 0;
    // Accepts every request and never answers.
    const silent: Server = createServer(() => {
      requests += 1;
    });
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY ??= credentials.secretAccessKey;
    const client = s3Client(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 300,
      longPollTimeoutMs: 300,
      maxAttempts: 2,
    });
    const store = new S3JobStore({ client, bucket: 'b' });
    try {
      await expect(store.get('t1', 'gen_1')).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(requests).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) =>
        silent.close(() => {
          resolve();
        }),
      );
    }
  });
});
