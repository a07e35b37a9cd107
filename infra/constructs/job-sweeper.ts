import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REPO_ROOT } from '../model-files.ts';
import { requireWholeNumber } from '../validate.ts';
import { lambdaBundling } from './bundling.ts';
import { lambdaExecutionRole } from './lambda-role.ts';

export interface JobSweeperProps {
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /**
   * Minutes between passes; also the worst extra time a job that lost its message waits.
   * @default 1
   */
  readonly periodMinutes?: number;
}

/**
 * A scheduled Lambda that walks the unfinished-job index and sends lost jobs back to the queue,
 * ends the ones that can no longer run, and announces ends nobody announced. It needs no GPU
 * and runs while the worker service is scaled to zero, which is when nothing else would.
 */
export class JobSweeper extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: JobSweeperProps) {
    super(scope, id);
    const periodMinutes = props.periodMinutes ?? 1;
    requireWholeNumber('periodMinutes', periodMinutes, 1, 60);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = lambdaExecutionRole(this, 'Role', this.logGroup, 'ditserve job sweeper');
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'functions/sweeper/lambda.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(Math.min(900, periodMinutes * 60)),
      // One pass at a time: overlapping passes are safe, but only cost more.
      reservedConcurrentExecutions: 1,
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'ditserve job sweeper (lost jobs back to the queue, unannounced ends announced)',
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: lambdaBundling(),
    });
    this.rule = new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(Duration.minutes(periodMinutes)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
