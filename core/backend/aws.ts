import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { S3BlobStore } from '../adapters/aws/s3-blob-store.ts';
import { S3DeliveryLog } from '../adapters/aws/s3-delivery-log.ts';
import { S3JobStore } from '../adapters/aws/s3-job-store.ts';
import { S3KeyStore } from '../adapters/aws/s3-key-store.ts';
import { SqsMessageQueue } from '../adapters/aws/sqs-message-queue.ts';
import { foreignEnv, read, readOptional } from '../config.ts';
import { SETTINGS } from '../settings.ts';
import { OUTPUT_TAGGING } from '../storage-layout.ts';
import type { JobMessage, WebhookEventMessage } from '../generation.ts';
import { s3Client, sqsClients } from './aws-clients.ts';
import type { Backend } from './types.ts';

export interface AwsBackendOptions {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** Receives on the jobs and webhook queues (a deadline that outlasts a long poll). */
  readonly sqsPolls?: SQSClient | undefined;
  /** One bucket: job records, idempotency claims, keys, delivery logs and outputs (docs/architecture.md). */
  readonly bucket: string;
  readonly jobsQueueUrl: string;
  readonly webhookQueueUrl: string;
  readonly kmsKeyArn?: string | undefined;
  readonly visibilitySeconds?: number | undefined;
}

export function awsBackend(o: AwsBackendOptions): Backend {
  return {
    kind: 'aws',
    jobs: new S3JobStore({ client: o.s3, bucket: o.bucket }),
    queue: new SqsMessageQueue<JobMessage>({
      client: o.sqs,
      pollClient: o.sqsPolls,
      queueUrl: o.jobsQueueUrl,
      visibilitySeconds: o.visibilitySeconds,
    }),
    outbox: new SqsMessageQueue<WebhookEventMessage>({
      client: o.sqs,
      pollClient: o.sqsPolls,
      queueUrl: o.webhookQueueUrl,
    }),
    blobs: new S3BlobStore({
      client: o.s3,
      bucket: o.bucket,
      // Matches the stack's lifecycle rule for outputs (infra/constructs/storage.ts).
      tagging: OUTPUT_TAGGING,
      serverSideEncryption: o.kmsKeyArn
        ? { kind: 'aws:kms', kmsKeyId: o.kmsKeyArn }
        : { kind: 'AES256' },
    }),
    keys: new S3KeyStore({ client: o.s3, bucket: o.bucket }),
    deliveryLog: new S3DeliveryLog(o.s3, o.bucket),
  };
}

/**
 * From DITSERVE_BUCKET, DITSERVE_JOBS_QUEUE_URL, DITSERVE_WEBHOOK_QUEUE_URL (and optionally
 * DITSERVE_KMS_KEY_ARN). AWS_ENDPOINT_URL (e.g. a moto_server) switches S3 to path-style URLs.
 */
export function awsBackendFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: { visibilitySeconds?: number | undefined } = {},
): Backend {
  // The AWS SDK's own variable (a moto_server, a MinIO): S3 then uses path-style URLs.
  const endpoint = foreignEnv(env, 'AWS_ENDPOINT_URL');
  const sqs = sqsClients(endpoint);
  return awsBackend({
    s3: s3Client(endpoint),
    sqs: sqs.calls,
    sqsPolls: sqs.polls,
    bucket: read(env, SETTINGS.bucket),
    jobsQueueUrl: read(env, SETTINGS.jobsQueueUrl),
    webhookQueueUrl: read(env, SETTINGS.webhookQueueUrl),
    kmsKeyArn: readOptional(env, SETTINGS.kmsKeyArn),
    visibilitySeconds: options.visibilitySeconds,
  });
}
