import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REPO_ROOT } from '../model-files.ts';
import { lambdaBundling } from './bundling.ts';
import { lambdaExecutionRole } from './lambda-role.ts';
import { requireWholeNumber } from '../validate.ts';

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
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = lambdaExecutionRole(this, 'Role', this.logGroup, 'ditserve webhook dispatcher');
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'functions/webhook-dispatcher/lambda.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: DISPATCHER_TIMEOUT,
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'ditserve webhook dispatcher (outbox queue → signed POSTs)',
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: lambdaBundling(),
    });
    this.eventSource = new SqsEventSource(props.outbox, {
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency,
    });
    this.function.addEventSource(this.eventSource);
  }
}
