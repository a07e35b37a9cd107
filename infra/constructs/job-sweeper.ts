import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { requireWholeNumber } from '../validate.ts';
import { ditserveFunction } from './ditserve-function.ts';

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
    ({ function: this.function, logGroup: this.logGroup } = ditserveFunction(this, {
      entry: 'functions/sweeper/lambda.ts',
      description: 'ditserve job sweeper (lost jobs back to the queue, unannounced ends announced)',
      roleDescription: 'ditserve job sweeper',
      memorySize: 256,
      timeout: Duration.seconds(Math.min(900, periodMinutes * 60)),
      // One pass at a time: overlapping passes are safe, but only cost more.
      reservedConcurrentExecutions: 1,
      environment: props.environment,
      logRetention: props.logRetention,
    }));
    this.rule = new events.Rule(this, 'Schedule', {
      schedule: events.Schedule.rate(Duration.minutes(periodMinutes)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
