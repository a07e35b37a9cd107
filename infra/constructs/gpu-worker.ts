import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cdkInterface } from '../cdk-types.ts';
import { requireWholeNumber } from '../validate.ts';

/** ECS waits at most this long between SIGTERM and SIGKILL (the service's hard limit). */
export const ECS_MAX_STOP_TIMEOUT_SECONDS = 120;

/** The container's health check: the worker's own /healthz (200 starting/ready/busy, 503 draining). */
export function healthCheckCommand(port: number): string[] {
  return [
    'CMD',
    'node',
    '-e',
    `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
  ];
}

export interface GpuWorkerProps {
  readonly vpc: ec2.IVpc;
  readonly image: ecs.ContainerImage;
  /** A g5/g6 family instance type with at least one NVIDIA GPU, e.g. `g5.xlarge`. */
  readonly instanceType: string;
  /** Extra instance types the Spot group may use (same GPU count and architecture). */
  readonly spotInstanceTypes: readonly string[];
  /** Run most tasks on Spot with an on-demand share (see capacityProviderStrategies). */
  readonly spot: boolean;
  readonly minTasks: number;
  readonly maxTasks: number;
  /** The jobs per running task (queued + in flight) that target tracking aims at. */
  readonly targetBacklogPerTask: number;
  /** Container environment (bucket, queues, model dirs, …). */
  readonly environment: Readonly<Record<string, string>>;
  /** Seconds the worker gives a draining batch after SIGTERM (< stop timeout). */
  readonly drainSeconds: number;
  readonly healthPort: number;
  readonly memoryReservationMiB: number;
  readonly rootVolumeGiB: number;
  readonly logRetention: logs.RetentionDays;
  /** Receives Auto Scaling group launch/terminate errors. */
  readonly notificationsTopic: sns.ITopic;
}

/**
 * The GPU worker: an ECS cluster whose capacity is one or two EC2 Auto Scaling groups of GPU
 * instances (ECS GPU-optimized Amazon Linux 2 AMI) behind capacity providers with managed
 * scaling, managed termination protection and managed draining; one task per GPU; the service
 * scales on the jobs queue's backlog per task and from zero.
 */
export class GpuWorker extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly onDemandCapacity: ecs.AsgCapacityProvider;
  public readonly spotCapacity?: ecs.AsgCapacityProvider;
  public readonly logGroup: logs.LogGroup;
  public readonly taskDefinition: ecs.Ec2TaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly service: ecs.Ec2Service;
  public readonly scalableTarget: appscaling.ScalableTarget;
  private readonly props: GpuWorkerProps;

  constructor(scope: Construct, id: string, props: GpuWorkerProps) {
    super(scope, id);
    validateGpuWorkerProps(props);
    this.props = props;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      // RunningTaskCount (the backlog-per-task denominator) comes from Container Insights.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'ditserve GPU instances: no inbound; outbound HTTPS to AWS APIs and ECR',
      allowAllOutbound: true,
    });

    this.onDemandCapacity = this.addCapacity('OnDemand', false);
    if (props.spot) this.spotCapacity = this.addCapacity('Spot', true);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      // Bridge: containers reach AWS through the instance's public address (no NAT gateway),
      // and, with IMDSv2's hop limit of 1, cannot borrow the instance role.
      networkMode: ecs.NetworkMode.BRIDGE,
    });
    this.container = this.taskDefinition.addContainer('worker', {
      image: props.image,
      essential: true,
      gpuCount: 1,
      memoryReservationMiB: props.memoryReservationMiB,
      environment: { ...props.environment },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'worker',
        logGroup: this.logGroup,
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: Duration.seconds(ECS_MAX_STOP_TIMEOUT_SECONDS),
      healthCheck: {
        command: healthCheckCommand(props.healthPort),
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        // Model load and CUDA warm-up (the health endpoint answers 200 while starting anyway).
        startPeriod: Duration.seconds(120),
      },
    });

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: cdkInterface<ecs.ICluster>(this.cluster),
      taskDefinition: this.taskDefinition,
      desiredCount: props.minTasks,
      capacityProviderStrategies: this.capacityProviderStrategies(),
      // A deployment may stop old tasks first (they drain their batch) and starts new ones on
      // instances that managed scaling adds.
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      enableECSManagedTags: true,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.service.node.addDependency(this.cluster);

    this.scalableTarget = new appscaling.ScalableTarget(this, 'TaskCount', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${this.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: props.minTasks,
      maxCapacity: props.maxTasks,
    });
  }

  /**
   * Spot: three tasks on Spot for every one on-demand (the on-demand group keeps the service
   * progressing when Spot capacity is short; ECS does not move a pending task between capacity
   * providers, so the fallback is this share, not a retry). On-demand only: one provider.
   */
  public capacityProviderStrategies(): ecs.CapacityProviderStrategy[] {
    if (!this.spotCapacity) {
      return [{ capacityProvider: this.onDemandCapacity.capacityProviderName, weight: 1 }];
    }
    return [
      { capacityProvider: this.spotCapacity.capacityProviderName, weight: 3 },
      { capacityProvider: this.onDemandCapacity.capacityProviderName, weight: 1 },
    ];
  }

  /**
   * Target tracking on jobs per running task, `(visible + in flight) / RunningTaskCount`, by
   * metric math (no Lambda publishing a custom metric). In-flight jobs count so that busy tasks
   * are not scaled in mid-batch; a task that is scaled in drains (SIGTERM) and returns unfinished
   * work to the queue. With no running task the expression has no value, so it cannot wake the
   * service: {@link scaleFromZero} does.
   */
  public scaleOnBacklog(queue: sqs.IQueue): appscaling.CfnScalingPolicy {
    const sqsMetric = (id: string, metricName: string) => ({
      id,
      metricStat: {
        metric: {
          namespace: 'AWS/SQS',
          metricName,
          dimensions: [{ name: 'QueueName', value: queue.queueName }],
        },
        stat: 'Sum',
      },
      returnData: false,
    });
    return new appscaling.CfnScalingPolicy(this, 'BacklogPerTaskPolicy', {
      policyName: `${Stack.of(this).stackName}-worker-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.scalableTarget.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: this.props.targetBacklogPerTask,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            sqsMetric('visible', 'ApproximateNumberOfMessagesVisible'),
            sqsMetric('inflight', 'ApproximateNumberOfMessagesNotVisible'),
            {
              id: 'tasks',
              metricStat: {
                metric: {
                  namespace: 'ECS/ContainerInsights',
                  metricName: 'RunningTaskCount',
                  dimensions: [
                    { name: 'ClusterName', value: this.cluster.clusterName },
                    { name: 'ServiceName', value: this.service.serviceName },
                  ],
                },
                stat: 'Average',
              },
              returnData: false,
            },
            {
              id: 'backlogPerTask',
              label: 'Jobs (queued + in flight) per running task',
              expression: '(visible + inflight) / tasks',
              returnData: true,
            },
          ],
        },
      },
    });
  }

  /**
   * Step scaling that wakes the service: when jobs have waited a whole minute and none is in
   * flight (nobody is consuming), set the task count to 1; target tracking takes over once that
   * task runs. Managed scaling then starts a GPU instance for it.
   */
  public scaleFromZero(queue: sqs.IQueue): cloudwatch.Alarm {
    const action = new appscaling.StepScalingAction(this, 'WakeFromZero', {
      scalingTarget: this.scalableTarget,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.seconds(120),
    });
    action.addAdjustment({ adjustment: Math.max(1, this.props.minTasks), lowerBound: 0 });
    const alarm = new cloudwatch.Alarm(this, 'WakeFromZeroAlarm', {
      alarmDescription: 'Jobs are waiting and no worker is consuming: start one GPU task',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(visible > 0 AND inflight == 0, 1, 0)',
        usingMetrics: {
          visible: queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Minimum',
          }),
          inflight: queue.metricApproximateNumberOfMessagesNotVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
        },
        period: Duration.minutes(1),
        label: 'waiting jobs with no consumer',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cwActions.ApplicationScalingAction(action));
    return alarm;
  }

  /** The worker's own grants are made by the stack (DitserveStack.grantWorker). */
  public get taskRole(): iam.IRole {
    return this.taskDefinition.taskRole;
  }

  /** The number of tasks actually running (Container Insights). */
  public metricRunningTasks(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: {
        ClusterName: this.cluster.clusterName,
        ServiceName: this.service.serviceName,
      },
      statistic: 'Average',
      period: Duration.minutes(1),
    });
  }

  private addCapacity(id: string, spot: boolean): ecs.AsgCapacityProvider {
    const role = new iam.Role(this, `${id}InstanceRole`, {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `ditserve GPU instances (${id}): ECS agent`,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, `${id}LaunchTemplate`, {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
      instanceType: new ec2.InstanceType(this.props.instanceType),
      userData: ec2.UserData.forLinux(),
      role,
      securityGroup: this.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(this.props.rootVolumeGiB, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });
    const instanceTypes = [this.props.instanceType, ...this.props.spotInstanceTypes];
    const group = new autoscaling.AutoScalingGroup(this, `${id}Group`, {
      vpc: this.props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      minCapacity: 0,
      maxCapacity: this.props.maxTasks,
      ...(spot
        ? {
            mixedInstancesPolicy: {
              launchTemplate,
              launchTemplateOverrides: instanceTypes.map((t) => ({
                instanceType: new ec2.InstanceType(t),
              })),
              instancesDistribution: {
                onDemandBaseCapacity: 0,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
              },
            },
            capacityRebalance: true,
          }
        : { launchTemplate }),
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      notifications: [
        {
          topic: this.props.notificationsTopic,
          scalingEvents: autoscaling.ScalingEvents.ALL,
        },
      ],
    });
    launchTemplate.userData?.addCommands('echo ECS_ENABLE_GPU_SUPPORT=true >> /etc/ecs/ecs.config');
    const provider = new ecs.AsgCapacityProvider(this, `${id}CapacityProvider`, {
      autoScalingGroup: group,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
      spotInstanceDraining: spot,
    });
    this.cluster.addAsgCapacityProvider(provider, { spotInstanceDraining: spot });
    return provider;
  }
}

const GPU_INSTANCE = /^g(4dn|5|6|6e)\.(xlarge|\d*xlarge|metal)$/;

/** Throws on props that would deploy a worker that cannot run or cannot drain. */
export function validateGpuWorkerProps(props: GpuWorkerProps): void {
  for (const type of [props.instanceType, ...props.spotInstanceTypes]) {
    if (!GPU_INSTANCE.test(type)) {
      throw new Error(
        `instance type "${type}" is not an x86 NVIDIA GPU type of the g4dn/g5/g6/g6e families (e.g. g5.xlarge, g6.xlarge)`,
      );
    }
  }
  const { minTasks, maxTasks } = props;
  requireWholeNumber('minTasks', minTasks, 0);
  requireWholeNumber('maxTasks', maxTasks, Math.max(1, minTasks), 100, 'at least 1 and minTasks');
  if (!(props.targetBacklogPerTask > 0)) {
    throw new Error(`targetBacklogPerTask must be > 0, got ${props.targetBacklogPerTask}`);
  }
  if (
    !Number.isInteger(props.drainSeconds) ||
    props.drainSeconds < 0 ||
    props.drainSeconds >= ECS_MAX_STOP_TIMEOUT_SECONDS
  ) {
    throw new Error(
      `drainSeconds must be below ECS's stop timeout of ${ECS_MAX_STOP_TIMEOUT_SECONDS} s (the most ECS allows), got ${props.drainSeconds}`,
    );
  }
  if (props.rootVolumeGiB < 30) throw new Error('rootVolumeGiB must be ≥ 30 (the AMI needs 30)');
}
