import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { createQueueWithDeadLetter } from '../../core/adapters/aws/sqs-queues.ts';
import { awsBackend } from '../../core/backend/aws.ts';
import type { Embedded } from '../../functions/local/embedded.ts';
import { motoForThisFile } from '../helpers/moto.ts';
import { submitFollowAndVerify } from './scenario.ts';
import { startTestStack } from './test-stack.ts';

describe('the same pipeline on the AWS adapters (S3 + SQS on a real moto_server)', () => {
  let stack: Embedded;
  let key: string;

  beforeAll(async () => {
    const moto = await motoForThisFile();
    const bucket = 'ditserve-e2e';
    await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const jobs = await createQueueWithDeadLetter(moto.sqs, 'jobs', {
      maxReceives: 5,
      visibilitySeconds: 30,
    });
    const hooks = await createQueueWithDeadLetter(moto.sqs, 'webhooks', { maxReceives: 10 });
    const backend = awsBackend({
      s3: moto.s3,
      sqs: moto.sqs,
      bucket,
      jobsQueueUrl: jobs.queueUrl,
      webhookQueueUrl: hooks.queueUrl,
      visibilitySeconds: 30,
    });
    key = (await issueApiKey(backend.keys, 'tenant-aws', 'e2e')).key;
    stack = await startTestStack({
      backend: () => Promise.resolve(backend),
      // Keys are required: the key lives in S3, so auth runs on the S3 KeyStore too.
      requireKeys: true,
      // With keys, loopback receivers need the operator's allow-list: the test's is on loopback.
      webhookAllowHosts: '127.0.0.1',
      visibilitySeconds: 30,
    });
    await stack.ready;
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  it('submit → SSE progress → succeeded → presigned S3 image decoded; signed webhooks verify', async () => {
    await submitFollowAndVerify(stack.url, { authorization: `Bearer ${key}` });
  });
});
