import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { requireWholeNumber } from '../validate.ts';

export interface QueueWithDeadLetterProps {
  /**
   * How long a received message stays invisible. For the jobs queue this is the worker's
   * DITSERVE_VISIBILITY_SECONDS (its heartbeat extends it every third of it).
   */
  readonly visibilityTimeout: Duration;
  /**
   * Deliveries before SQS moves a message to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long the main queue keeps an unreceived message.
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;
  /**
   * A customer-managed key for SSE-KMS.
   * @default - SSE-SQS (SQS-managed keys)
   */
  readonly encryptionKey?: kms.IKey;
}

/** An SQS queue with its dead-letter queue: both encrypted at rest and TLS-only. */
export class QueueWithDeadLetter extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    requireWholeNumber('maxReceiveCount', maxReceiveCount, 1, 1000);
    const visibility = props.visibilityTimeout.toSeconds();
    if (visibility < 1 || visibility > 43_200) {
      throw new Error(`visibilityTimeout must be 1 s to 12 h, got ${visibility} s`);
    }
    this.maxReceiveCount = maxReceiveCount;
    const encryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetter', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...encryption,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
