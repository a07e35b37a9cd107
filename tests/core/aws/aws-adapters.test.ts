import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { describe } from 'vitest';
import { S3BlobStore } from '../../../core/adapters/aws/s3-blob-store.ts';
import { S3DeliveryLog } from '../../../core/adapters/aws/s3-delivery-log.ts';
import { S3JobStore } from '../../../core/adapters/aws/s3-job-store.ts';
import { S3KeyStore } from '../../../core/adapters/aws/s3-key-store.ts';
import { SqsMessageQueue } from '../../../core/adapters/aws/sqs-message-queue.ts';
import { createQueueWithDeadLetter } from '../../../core/adapters/aws/sqs-queues.ts';
import { motoForThisFile } from '../../helpers/moto.ts';
import { blobStoreContract } from '../contracts/blob-store.contract.ts';
import { deliveryLogContract } from '../contracts/delivery-log.contract.ts';
import { jobStoreContract } from '../contracts/job-store.contract.ts';
import { keyStoreContract } from '../contracts/key-store.contract.ts';
import { messageQueueContract } from '../contracts/message-queue.contract.ts';

const moto = await motoForThisFile();
const unique = (): string => `ditserve-${randomBytes(6).toString('hex')}`;

/** Every case gets an empty bucket of its own. */
async function bucket(): Promise<string> {
  const name = unique();
  await moto.s3.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

describe('S3JobStore on moto', () => {
  jobStoreContract(async () => new S3JobStore({ client: moto.s3, bucket: await bucket() }));
});

describe('S3JobStore on moto, under a key prefix', () => {
  jobStoreContract(
    async () => new S3JobStore({ client: moto.s3, bucket: await bucket(), prefix: 'ditserve/' }),
  );
});

describe('SqsMessageQueue on moto', () => {
  messageQueueContract(async ({ visibilitySeconds, maxReceives }) => {
    const { queueUrl, deadLetterUrl } = await createQueueWithDeadLetter(moto.sqs, unique(), {
      maxReceives,
      visibilitySeconds,
    });
    return {
      queue: new SqsMessageQueue<{ n: number }>({ client: moto.sqs, queueUrl }),
      deadLetter: new SqsMessageQueue<{ n: number }>({ client: moto.sqs, queueUrl: deadLetterUrl }),
    };
  });
});

describe('S3BlobStore on moto', () => {
  blobStoreContract(async () => new S3BlobStore({ client: moto.s3, bucket: await bucket() }));
});

describe('S3KeyStore on moto', () => {
  keyStoreContract(async () => new S3KeyStore({ client: moto.s3, bucket: await bucket() }));
});

describe('S3DeliveryLog on moto', () => {
  deliveryLogContract(async () => new S3DeliveryLog(moto.s3, await bucket()));
});
