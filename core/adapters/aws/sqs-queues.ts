import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueueWithDeadLetter {
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
}

export interface CreateQueueOptions {
  /** Deliveries before SQS moves a message to `{name}-dlq` (the RedrivePolicy). */
  readonly maxReceives: number;
  readonly visibilitySeconds?: number | undefined;
  /** How long the dead-letter queue keeps messages (SQS's maximum, 14 days, by default). */
  readonly deadLetterRetentionSeconds?: number | undefined;
}

/**
 * Creates `{name}` with a dead-letter queue `{name}-dlq` wired through a RedrivePolicy, for
 * tests and local stacks (the CDK stack creates the real ones). Idempotent like CreateQueue.
 */
export async function createQueueWithDeadLetter(
  client: SQSClient,
  name: string,
  options: CreateQueueOptions,
): Promise<QueueWithDeadLetter> {
  const dead = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq`,
      Attributes: {
        MessageRetentionPeriod: String(options.deadLetterRetentionSeconds ?? 1_209_600),
      },
    }),
  );
  if (!dead.QueueUrl) throw new Error(`SQS returned no URL for ${name}-dlq`);
  const arn = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: arn.Attributes?.QueueArn,
          maxReceiveCount: options.maxReceives,
        }),
        ...(options.visibilitySeconds !== undefined
          ? { VisibilityTimeout: String(options.visibilitySeconds) }
          : {}),
      },
    }),
  );
  if (!main.QueueUrl) throw new Error(`SQS returned no URL for ${name}`);
  return { queueUrl: main.QueueUrl, deadLetterUrl: dead.QueueUrl };
}
