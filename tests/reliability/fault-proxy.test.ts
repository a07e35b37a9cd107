import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, startFaultProxy, type FaultKind, type FaultProxy } from './fault-proxy.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A tiny upstream: answers every call 200 with a JSON body, and records what reached it. */
async function startUpstream() {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const body = JSON.stringify({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:1:q' } });
      res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.0',
        'x-upstream': 'yes',
        // HEAD answers must keep the real length (S3 HeadObject's ContentLength).
        'content-length': String(req.method === 'HEAD' ? 1234 : Buffer.byteLength(body)),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

interface Reply {
  readonly status?: number;
  readonly headers?: IncomingHttpHeaders;
  readonly body?: string;
  readonly error?: string;
}

/** One plain HTTP call, on a fresh connection; a reset comes back as `error`. */
function call(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '',
): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', (e: NodeJS.ErrnoException) => {
        resolve({ error: e.code ?? e.message });
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      resolve({ error: e.code ?? e.message });
    });
    req.end(body);
  });
}

const sqsHeaders = (operation: string) => ({
  'x-amz-target': `AmazonSQS.${operation}`,
  'content-type': 'application/x-amz-json-1.0',
});

const only = (kind: FaultKind) => ({ [kind]: 1 });

describe('fault proxy', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const proxies: FaultProxy[] = [];
  const proxy = async (options: Omit<Parameters<typeof startFaultProxy>[0], 'target'>) => {
    const p = await startFaultProxy({ target: upstream.url, ...options });
    proxies.push(p);
    return p;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
  });

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await upstream.close();
  });

  it('names S3 and SQS operations the way the AWS SDK v3 sends them', () => {
    const none = Buffer.alloc(0);
    expect(classify('POST', '/', sqsHeaders('SendMessage'), none).operation).toBe(
      'SQS.SendMessage',
    );
    const receive = Buffer.from(JSON.stringify({ QueueUrl: 'q', WaitTimeSeconds: 1 }));
    expect(classify('POST', '/', sqsHeaders('ReceiveMessage'), receive)).toEqual({
      service: 'SQS',
      operation: 'SQS.ReceiveMessage',
      longPoll: true,
    });
    expect(classify('PUT', '/b/jobs/t/1/job.json?x-id=PutObject', {}, none).operation).toBe(
      'S3.PutObject',
    );
    expect(classify('GET', '/b?list-type=2&prefix=index%2F', {}, none).operation).toBe(
      'S3.ListObjectsV2',
    );
    expect(classify('HEAD', '/b', {}, none).operation).toBe('S3.HeadBucket');
    expect(classify('GET', '/moto-api/', {}, none).service).toBe('other');
  });

  it('passes calls through untouched when no fault is drawn (HEAD keeps its length)', async () => {
    const p = await proxy({ seed: 1, rate: 0 });
    const got = await call(p.url, 'POST', '/', sqsHeaders('GetQueueAttributes'), '{"a":1}');
    expect(got.status).toBe(200);
    expect(got.headers?.['x-upstream']).toBe('yes');
    expect(JSON.parse(got.body ?? '')).toHaveProperty('Attributes');
    expect(upstream.seen.at(-1)?.body).toBe('{"a":1}');
    const head = await call(p.url, 'HEAD', '/bucket/key');
    expect(head.headers?.['content-length']).toBe('1234');
    expect(p.stats()).toMatchObject({ requests: 2, forwarded: 2, faulted: 0 });
  });

  it('fails about the configured share, reproducibly for a seed, counted per kind and operation', async () => {
    const run = async (seed: number) => {
      const p = await proxy({
        seed,
        rate: 0.2,
        weights: { error_500: 1, error_503: 1, throttle: 1 },
      });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) {
        const op = i % 2 === 0 ? 'SendMessage' : 'DeleteMessage';
        statuses.push((await call(p.url, 'POST', '/', sqsHeaders(op), '{}')).status ?? 0);
      }
      return { statuses, stats: p.stats() };
    };
    const a = await run(42);
    const b = await run(42);
    expect(b.statuses).toEqual(a.statuses);
    const { stats } = a;
    expect(stats.requests).toBe(200);
    // 20 % of 200 is 40; a seeded draw lands near it.
    expect(stats.faulted).toBeGreaterThan(20);
    expect(stats.faulted).toBeLessThan(60);
    expect(stats.faulted).toBe(a.statuses.filter((s) => s !== 200).length);
    expect(stats.byKind.error_500 + stats.byKind.error_503 + stats.byKind.throttle).toBe(
      stats.faulted,
    );
    const perOp = Object.values(stats.byOperation).flatMap((o) => Object.values(o.faults));
    expect(perOp.reduce((x, y) => x + y, 0)).toBe(stats.faulted);
    expect(stats.byOperation['SQS.SendMessage']?.requests).toBe(100);
    expect(stats.forwarded).toBe(200 - stats.faulted);
  });

  it('reset_before: nothing reaches the service; reset_after: it does, the client sees a reset', async () => {
    const before = await proxy({ seed: 3, rate: 1, weights: only('reset_before') });
    const count = upstream.seen.length;
    expect((await call(before.url, 'PUT', '/b/k1?x-id=PutObject', {}, 'x')).error).toBe(
      'ECONNRESET',
    );
    expect(upstream.seen.length).toBe(count);

    const after = await proxy({ seed: 3, rate: 1, weights: only('reset_after') });
    expect((await call(after.url, 'PUT', '/b/k2?x-id=PutObject', {}, 'y')).error).toBe(
      'ECONNRESET',
    );
    expect(upstream.seen.length).toBe(count + 1);
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'PUT', url: '/b/k2?x-id=PutObject' });
    expect(after.stats().byOperation['S3.PutObject']?.faults).toEqual({ reset_after: 1 });
  });

  it('stall: holds the call without forwarding it, then resets; long polls can be spared', async () => {
    const p = await proxy({ seed: 5, rate: 1, weights: only('stall'), stallMs: 150 });
    const count = upstream.seen.length;
    expect((await call(p.url, 'GET', '/b/k?x-id=GetObject')).error).toBe('ECONNRESET');
    expect(upstream.seen.length).toBe(count);

    const spared = await proxy({
      seed: 5,
      rate: 1,
      weights: { stall: 1, error_503: 1 },
      excludeLongPollFromStalls: true,
    });
    const longPoll = JSON.stringify({ QueueUrl: 'q', WaitTimeSeconds: 1 });
    for (let i = 0; i < 10; i++) {
      const got = await call(spared.url, 'POST', '/', sqsHeaders('ReceiveMessage'), longPoll);
      expect(got.status).toBe(503);
    }
    expect(spared.stats().byKind).toMatchObject({ stall: 0, error_503: 10 });
  });

  it('the error shapes are the ones the AWS SDK retries, with the right error names', async () => {
    const sdkCall = async (kind: FaultKind, service: 'S3' | 'SQS', variant = 0) => {
      const p = await proxy({
        seed: 7,
        rate: 1,
        weights: only(kind),
        stallMs: 100,
        longPollStallMs: 100,
      });
      // The proxy alternates SQS's two throttling names; skip to the one wanted.
      for (let i = 0; i < variant; i++) {
        await call(p.url, 'POST', '/', sqsHeaders('GetQueueAttributes'), '{}');
      }
      const common = {
        endpoint: p.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        maxAttempts: 2,
      };
      const before = p.stats().requests;
      let error: (Error & { $metadata?: { attempts?: number } }) | undefined;
      try {
        if (service === 'S3') {
          const s3 = new S3Client({ ...common, forcePathStyle: true });
          await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
          s3.destroy();
        } else {
          const sqs = new SQSClient(common);
          await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: `${p.url}/1/q`, AttributeNames: ['All'] }),
          );
          sqs.destroy();
        }
      } catch (e) {
        error = e as typeof error;
      }
      return { error, calls: p.stats().requests - before };
    };
    const expectations: [FaultKind, 'S3' | 'SQS', string, number][] = [
      ['error_500', 'S3', 'InternalError', 0],
      ['error_503', 'S3', 'ServiceUnavailable', 0],
      ['throttle', 'S3', 'SlowDown', 0],
      ['error_500', 'SQS', 'InternalFailure', 0],
      ['error_503', 'SQS', 'ServiceUnavailable', 0],
      // Names alternate call by call; the error thrown is the second (retried) call's.
      ['throttle', 'SQS', 'RequestThrottled', 0],
      ['throttle', 'SQS', 'ThrottlingException', 1],
    ];
    for (const [kind, service, name, variant] of expectations) {
      const { error, calls } = await sdkCall(kind, service, variant);
      expect({ kind, service, name: error?.name }).toEqual({ kind, service, name });
      // Retried: two attempts reached the proxy.
      expect({ kind, service, calls }).toEqual({ kind, service, calls: 2 });
    }
    for (const kind of ['reset_before', 'reset_after', 'stall'] as const) {
      const { error, calls } = await sdkCall(kind, 'SQS');
      expect({ kind, code: (error as NodeJS.ErrnoException | undefined)?.code }).toEqual({
        kind,
        code: 'ECONNRESET',
      });
      expect({ kind, calls }).toEqual({ kind, calls: 2 });
    }
  });
});
