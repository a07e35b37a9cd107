import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { QueueWithDeadLetter } from './queues.ts';

/** The namespace and dimension of the worker's embedded-metric-format lines. */
export const WORKER_METRICS = { namespace: 'ditserve', service: 'gpu-worker' } as const;

export interface ObservabilityProps {
  readonly topic: sns.ITopic;
  readonly jobs: QueueWithDeadLetter;
  readonly outbox: QueueWithDeadLetter;
  readonly restApi: apigw.RestApi;
  readonly apiFunction: lambda.IFunction;
  readonly dispatcherFunction: lambda.IFunction;
  readonly runningTasks: cloudwatch.IMetric;
  /** Alarm when the oldest queued job is older than this. */
  readonly maxJobAge: Duration;
}

/** A dashboard of the whole service, and the alarms that page (through the topic). */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly props: ObservabilityProps;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (props.maxJobAge.toSeconds() < 60) throw new Error('maxJobAge must be at least 1 minute');
    this.props = props;
    const minute = Duration.minutes(1);
    const worker = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: WORKER_METRICS.namespace,
        metricName,
        dimensionsMap: { Service: WORKER_METRICS.service },
        statistic,
        period: minute,
      });

    this.addAlarm('JobsDeadLetters', {
      alarmDescription: 'Jobs reached the jobs dead-letter queue (poison messages)',
      metric: props.jobs.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
    this.addAlarm('WebhookDeadLetters', {
      alarmDescription: 'Webhook events reached the outbox dead-letter queue',
      metric: props.outbox.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: minute,
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
    this.addAlarm('OldestJob', {
      alarmDescription: `A queued job has waited longer than ${props.maxJobAge.toSeconds()} s`,
      metric: props.jobs.queue.metricApproximateAgeOfOldestMessage({
        period: minute,
        statistic: 'Maximum',
      }),
      threshold: props.maxJobAge.toSeconds(),
      evaluationPeriods: 3,
    });
    this.addAlarm('OldestWebhookEvent', {
      alarmDescription: 'A webhook event has waited in the outbox longer than 15 minutes',
      metric: props.outbox.queue.metricApproximateAgeOfOldestMessage({
        period: minute,
        statistic: 'Maximum',
      }),
      threshold: 900,
      evaluationPeriods: 3,
    });
    this.addAlarm('WorkerErrors', {
      alarmDescription: 'The GPU worker logged errors (WorkerErrors, embedded metric format)',
      metric: worker('WorkerErrors'),
      threshold: 5,
      evaluationPeriods: 5,
    });
    this.addAlarm('Api5xx', {
      alarmDescription: 'The API answered 5xx',
      metric: props.restApi.metricServerError({ period: minute, statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 5,
    });
    this.addAlarm('ApiFunctionErrors', {
      alarmDescription: 'The API function failed (errors, not HTTP 4xx)',
      metric: props.apiFunction.metricErrors({ period: minute, statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 5,
    });
    this.addAlarm('DispatcherErrors', {
      alarmDescription: 'The webhook dispatcher failed whole invocations',
      metric: props.dispatcherFunction.metricErrors({ period: minute, statistic: 'Sum' }),
      threshold: 5,
      evaluationPeriods: 5,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Jobs queue',
        left: [
          props.jobs.queue.metricApproximateNumberOfMessagesVisible({ period: minute }),
          props.jobs.queue.metricApproximateNumberOfMessagesNotVisible({ period: minute }),
        ],
        right: [props.runningTasks],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oldest message age (s)',
        left: [
          props.jobs.queue.metricApproximateAgeOfOldestMessage({ period: minute }),
          props.outbox.queue.metricApproximateAgeOfOldestMessage({ period: minute }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Worker: jobs and errors',
        left: [worker('JobsSucceeded'), worker('JobsFailed'), worker('WorkerErrors')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker: inference and queue time (ms, p50/p90)',
        left: [worker('InferenceMs', 'p50'), worker('InferenceMs', 'p90')],
        right: [worker('QueueMs', 'p50'), worker('QueueMs', 'p90')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [
          props.restApi.metricCount({ period: minute, statistic: 'Sum' }),
          props.restApi.metricClientError({ period: minute, statistic: 'Sum' }),
          props.restApi.metricServerError({ period: minute, statistic: 'Sum' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms) and dispatcher',
        left: [
          props.restApi.metricLatency({ period: minute, statistic: 'p50' }),
          props.restApi.metricLatency({ period: minute, statistic: 'p99' }),
        ],
        right: [
          props.dispatcherFunction.metricInvocations({ period: minute }),
          props.dispatcherFunction.metricErrors({ period: minute }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }

  private addAlarm(
    id: string,
    options: Pick<cloudwatch.AlarmProps, 'alarmDescription' | 'metric' | 'threshold'> & {
      evaluationPeriods?: number;
    },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...options,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.props.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.props.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
