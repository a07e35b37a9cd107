import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { requireWholeNumber } from '../validate.ts';
import { ditserveFunction } from './ditserve-function.ts';

/** The dispatcher's timeout; the outbox's visibility timeout must be at least 6× this. */
export const DISPATCHER_TIMEOUT = Duration.seconds(30);

export interface WebhookDispatcherProps {
  readonly outbox: sqs.IQueue;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /**
   * At most this many concurrent dispatcher instances (SQS event source maximum concurrency),
   * so a burst of events cannot flood receivers or the account's concurrency.
   * @default 10
   */
  readonly maxConcurrency?: number;
}

/**
 * Signs and POSTs webhook events from the outbox queue. Failed deliveries are re-sent to the
 * outbox with a delay by the code (backoff); a record that throws is reported as a batch item
 * failure, retried after the visibility timeout, and dead-lettered after the queue's
 * maxReceiveCount.
 */
export class WebhookDispatcher extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: WebhookDispatcherProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? 10;
    requireWholeNumber('maxConcurrency', maxConcurrency, 2, 1000);
    ({ function: this.function, logGroup: this.logGroup } = ditserveFunction(this, {
      entry: 'functions/webhook-dispatcher/lambda.ts',
      description: 'ditserve webhook dispatcher (outbox queue → signed POSTs)',
      roleDescription: 'ditserve webhook dispatcher',
      memorySize: 256,
      timeout: DISPATCHER_TIMEOUT,
      environment: props.environment,
      logRetention: props.logRetention,
    }));
    this.eventSource = new SqsEventSource(props.outbox, {
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency,
    });
    this.function.addEventSource(this.eventSource);
  }
}
