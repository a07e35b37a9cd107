import {
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../../core/adapters/aws/s3-blob-store.ts';
import { S3JobStore } from '../../../core/adapters/aws/s3-job-store.ts';
import { S3KeyStore } from '../../../core/adapters/aws/s3-key-store.ts';
import { SqsMessageQueue } from '../../../core/adapters/aws/sqs-message-queue.ts';
import { StoreUnavailableError } from '../../../core/ports/job-store.ts';

// moto cannot be made to throttle or fail on demand; these paths are driven by a mocked client.

const options = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

function s3Error(name: string, status: number, fault: 'client' | 'server'): S3ServiceException {
  return new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status } });
}

function sqsError(name: string, status: number): SQSServiceException {
  return new SQSServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('S3 adapters translate vendor errors at the boundary', () => {
  const failures = [
    ['SlowDown', 503, 'server'],
    ['InternalError', 500, 'server'],
    ['ServiceUnavailable', 503, 'server'],
    ['AccessDenied', 403, 'client'],
    ['NoSuchBucket', 404, 'client'],
  ] as const;

  for (const [name, status, fault] of failures) {
    it(`${name} (${status}) becomes StoreUnavailableError with the cause kept`, async () => {
      const client = new S3Client(options);
      mockClient(client)
        .onAnyCommand()
        .rejects(s3Error(name, status, fault));
      const jobs = new S3JobStore({ client, bucket: 'b' });
      const error: unknown = await jobs.get('t1', 'gen_1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).cause).toBeInstanceOf(S3ServiceException);
      expect((error as Error).message).toContain(name);
      await expect(jobs.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      const blobs = new S3BlobStore({ client, bucket: 'b' });
      await expect(blobs.put('k', new Uint8Array(1), 'image/png')).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      const keys = new S3KeyStore({ client, bucket: 'b' });
      await expect(keys.getKey('aaaaaaaaaaaa')).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  }

  it('turns a network failure into StoreUnavailableError', async () => {
    const client = new S3Client(options);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    mockClient(client).on(HeadBucketCommand).rejects(reset);
    await expect(new S3JobStore({ client, bucket: 'b' }).ping()).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });

  it('lets a bug (not a vendor error) through unchanged', async () => {
    const client = new S3Client(options);
    const bug = new TypeError('x is not a function');
    mockClient(client).on(GetObjectCommand).rejects(bug);
    await expect(new S3JobStore({ client, bucket: 'b' }).get('t1', 'a')).rejects.toBe(bug);
  });

  it('maps a 409 ConditionalRequestConflict on put to a version conflict, not an outage', async () => {
    const client = new S3Client(options);
    const mock = mockClient(client);
    // The unfinished-index entry is written first; the job's conditional create loses.
    mock.on(PutObjectCommand).resolves({});
    mock
      .on(PutObjectCommand, { IfNoneMatch: '*' })
      .rejects(s3Error('ConditionalRequestConflict', 409, 'client'));
    mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404, 'client'));
    const store = new S3JobStore({ client, bucket: 'b' });
    const error: unknown = await store
      .create({
        id: 'a',
        tenant: 't1',
        status: 'queued',
        version: 1,
        createdAt: '2026-01-01T00:00:00Z',
        data: {},
      })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('version_conflict');
  });
});

describe('SqsMessageQueue translates vendor errors at the boundary', () => {
  it('turns throttling and 5xx into StoreUnavailableError', async () => {
    for (const [name, status] of [
      ['RequestThrottled', 400],
      ['ThrottlingException', 400],
      ['InternalFailure', 500],
      ['ServiceUnavailable', 503],
    ] as const) {
      const client = new SQSClient(options);
      mockClient(client).onAnyCommand().rejects(sqsError(name, status));
      const queue = new SqsMessageQueue({ client, queueUrl: 'http://q' });
      await expect(queue.receive()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(queue.send({})).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(queue.depth()).rejects.toBeInstanceOf(StoreUnavailableError);
    }
  });

  it('swallows stale receipts on delete, extend and release, but not other failures', async () => {
    const client = new SQSClient(options);
    const mock = mockClient(client);
    mock.on(DeleteMessageCommand).rejects(sqsError('ReceiptHandleIsInvalid', 400));
    mock.on(ChangeMessageVisibilityCommand).rejects(sqsError('MessageNotInflight', 400));
    const queue = new SqsMessageQueue({ client, queueUrl: 'http://q' });
    await expect(queue.delete('old')).resolves.toBeUndefined();
    await expect(queue.extend('old', 30)).resolves.toBeUndefined();
    await expect(queue.release('old')).resolves.toBeUndefined();
    mock.on(DeleteMessageCommand).rejects(sqsError('AccessDenied', 403));
    await expect(queue.delete('old')).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('skips a message whose body is not JSON (redrive will move it) and keeps the rest', async () => {
    const client = new SQSClient(options);
    mockClient(client)
      .on(ReceiveMessageCommand)
      .resolves({
        Messages: [
          { Body: 'not json', ReceiptHandle: 'r1', Attributes: { ApproximateReceiveCount: '3' } },
          { Body: '{"n":1}', ReceiptHandle: 'r2', Attributes: { ApproximateReceiveCount: '2' } },
        ],
      });
    const queue = new SqsMessageQueue<{ n: number }>({ client, queueUrl: 'http://q' });
    expect(await queue.receive({ maxMessages: 10 })).toEqual([
      { body: { n: 1 }, receipt: 'r2', receiveCount: 2 },
    ]);
  });
});
