import { once } from 'node:events';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { createQueueWithDeadLetter } from '../../core/adapters/aws/sqs-queues.ts';
import { S3KeyStore } from '../../core/adapters/aws/s3-key-store.ts';
import { serveProcess } from '../helpers/cli.ts';
import { motoForThisFile } from '../helpers/moto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('ditserve serve --backend aws: the API and dispatcher against a stack’s bucket and queues', () => {
  it('needs the stack’s keys, queues jobs on its queue and runs no worker of its own', async () => {
    const moto = await motoForThisFile();
    const bucket = 'ditserve-serve-aws';
    await moto.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const jobs = await createQueueWithDeadLetter(moto.sqs, 'jobs', { maxReceives: 5 });
    const hooks = await createQueueWithDeadLetter(moto.sqs, 'webhooks', { maxReceives: 5 });
    const { key } = await issueApiKey(
      new S3KeyStore({ client: moto.s3, bucket }),
      'tenant-debug',
      'serve --backend aws test',
    );
    const served = serveProcess(
      ['serve', '--backend', 'aws', '--port', '0', '--data-dir', await tempDir()],
      {
        env: {
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          DITSERVE_BUCKET: bucket,
          DITSERVE_JOBS_QUEUE_URL: jobs.queueUrl,
          DITSERVE_WEBHOOK_QUEUE_URL: hooks.queueUrl,
          DITSERVE_SWEEP_SECONDS: '0',
        },
      },
    );
    try {
      await served.waitFor('API ready');
      expect(served.stderr()).toContain('No worker runs here');
      const url = served.url();
      expect((await fetch(`${url}/v1/models`)).status).toBe(401);
      const created = await fetch(`${url}/v1/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a red circle' }),
      });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as { id: string };
      // The job's message is on the stack's queue, for the stack's workers.
      const received = await moto.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: jobs.queueUrl,
          MaxNumberOfMessages: 10,
        }),
      );
      const bodies = (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as object);
      expect(bodies).toContainEqual(expect.objectContaining({ tenant: 'tenant-debug', jobId: id }));
      const got = await fetch(`${url}/v1/generations/${id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(((await got.json()) as { status: string }).status).toBe('queued');
    } finally {
      served.child.kill('SIGTERM');
      await once(served.child, 'exit');
    }
  });
});
