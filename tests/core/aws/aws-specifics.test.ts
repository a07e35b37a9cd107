import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../../core/adapters/aws/s3-blob-store.ts';
import { S3JobStore } from '../../../core/adapters/aws/s3-job-store.ts';
import { KEYS, OUTPUT_TAGGING } from '../../../core/storage-layout.ts';
import { indexNameOf } from '../../../core/adapters/newest-first-index.ts';
import { StoreUnavailableError, VersionConflictError } from '../../../core/ports/job-store.ts';
import { motoForThisFile } from '../../helpers/moto.ts';

const moto = await motoForThisFile();

async function bucket(): Promise<string> {
  const name = `ditserve-${randomBytes(6).toString('hex')}`;
  await moto.s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

describe('S3JobStore conditional writes on moto', () => {
  it('lets exactly one of many writers (separate ETag caches) win a put on the same version', async () => {
    const name = await bucket();
    const stores = Array.from(
      { length: 8 },
      () => new S3JobStore({ client: moto.s3, bucket: name }),
    );
    await stores[0]?.create({
      id: 'gen_1',
      tenant: 't1',
      status: 'queued',
      version: 1,
      createdAt: '2026-11-26T10:00:00.000Z',
      data: { winner: -1 },
    });
    // Every writer reads first, so each holds the version-1 ETag and sends only If-Match.
    const read = await Promise.all(
      stores.map(async (store, i) => ({
        store,
        i,
        job: await store.get<{ winner: number }>('t1', 'gen_1'),
      })),
    );
    const results = await Promise.allSettled(
      read.map(({ store, i, job }) => store.put({ ...job, version: 2, data: { winner: i } }, 1)),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
    }
    const stored = await stores[0]?.get<{ winner: number }>('t1', 'gen_1');
    expect(stored?.data.winner).toBe(won[0]);
  });

  it('refuses a put based on a version another instance has replaced', async () => {
    const name = await bucket();
    const a = new S3JobStore({ client: moto.s3, bucket: name });
    const b = new S3JobStore({ client: moto.s3, bucket: name });
    const job = {
      id: 'gen_2',
      tenant: 't1',
      status: 'queued' as const,
      version: 1,
      createdAt: '2026-11-26T10:00:00.000Z',
      data: {},
    };
    await a.create(job);
    await b.put({ ...job, status: 'canceled', version: 2 }, 1);
    // a still caches the version-1 ETag; S3's If-Match is what stops it.
    await expect(a.put({ ...job, status: 'running', version: 2 }, 1)).rejects.toBeInstanceOf(
      VersionConflictError,
    );
    expect((await a.get('t1', 'gen_2')).status).toBe('canceled');
  });

  it('reports an unreachable endpoint as StoreUnavailableError', async () => {
    const closed = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const store = new S3JobStore({ client: closed, bucket: 'nowhere' });
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get('t1', 'x')).rejects.toBeInstanceOf(StoreUnavailableError);
    closed.destroy();
  });

  it('reports a missing bucket as StoreUnavailableError, not as a missing job', async () => {
    const store = new S3JobStore({ client: moto.s3, bucket: 'ditserve-no-such-bucket' });
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get('t1', 'x')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('S3JobStore indexes on moto', () => {
  it('lists a job whose create died after its index entries only once the job is stored', async () => {
    const name = await bucket();
    const store = new S3JobStore({ client: moto.s3, bucket: name });
    const job = {
      id: 'gen_half',
      tenant: 't1',
      status: 'queued' as const,
      version: 1,
      createdAt: '2026-12-01T10:00:00.000Z',
      data: {},
    };
    // What a create that died between its index entries and the job leaves behind.
    await moto.s3.send(
      new PutObjectCommand({
        Bucket: name,
        Key: KEYS.indexEntry('t1', indexNameOf(job)),
        Body: new Uint8Array(0),
      }),
    );
    expect((await store.list('t1')).jobs).toEqual([]);
    // The retry (same id and time, as submit makes it) stores the job: listed once.
    await store.create(job);
    expect((await store.list('t1')).jobs.map((j) => j.id)).toEqual(['gen_half']);
  });
});

describe('S3BlobStore on moto', () => {
  it('serves the stored bytes at the presigned URL', async () => {
    const store = new S3BlobStore({ client: moto.s3, bucket: await bucket() });
    await store.put('jobs/t1/gen_1/out/0.png', Uint8Array.from([1, 2, 3]), 'image/png');
    const res = await fetch((await store.signedUrl('jobs/t1/gen_1/out/0.png', 60)).url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('encrypts objects at rest (AES256 by default)', async () => {
    const name = await bucket();
    const store = new S3BlobStore({ client: moto.s3, bucket: name, prefix: 'out' });
    await store.put('a.png', Uint8Array.from([1]), 'image/png');
    const head = await moto.s3.send(new HeadObjectCommand({ Bucket: name, Key: 'out/a.png' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  it('tags outputs so that the stack’s lifecycle rule can expire them', async () => {
    const name = await bucket();
    const store = new S3BlobStore({ client: moto.s3, bucket: name, tagging: OUTPUT_TAGGING });
    await store.put('jobs/t1/gen_1/out/0.png', Uint8Array.from([1]), 'image/png');
    const tags = await moto.s3.send(
      new GetObjectTaggingCommand({ Bucket: name, Key: 'jobs/t1/gen_1/out/0.png' }),
    );
    expect(tags.TagSet).toEqual([{ Key: 'ditserve:expiry', Value: 'output' }]);
  });
});
