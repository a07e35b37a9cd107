import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { DitserveApi } from './constructs/api.ts';
import { ECS_MAX_STOP_TIMEOUT_SECONDS, GpuWorker } from './constructs/gpu-worker.ts';
import { Observability } from './constructs/observability.ts';
import { QueueWithDeadLetter } from './constructs/queues.ts';
import { DitserveStorage } from './constructs/storage.ts';
import { DISPATCHER_TIMEOUT, WebhookDispatcher } from './constructs/webhook-dispatcher.ts';
import { JobSweeper } from './constructs/job-sweeper.ts';
import { SETTINGS, SHIPPED_MODEL_DIRS } from '../core/settings.ts';
import { REPO_ROOT } from './model-files.ts';
import { cdkInterface } from './cdk-types.ts';
import { addNagSuppressions } from './nag.ts';
import { requireWholeNumber } from './validate.ts';

export interface DitserveStackProps extends StackProps {
  /**
   * EC2 instance type of the GPU workers: g4dn, g5, g6 or g6e (x86, NVIDIA).
   * @default 'g5.xlarge'
   */
  readonly instanceType?: string;
  /**
   * More instance types the Spot group may use, for Spot capacity (one GPU each is best).
   * @default [] (only instanceType)
   */
  readonly spotInstanceTypes?: readonly string[];
  /**
   * Run three of every four worker tasks on Spot instances, one on on-demand.
   * @default false (on-demand only)
   */
  readonly spot?: boolean;
  /**
   * Worker tasks kept running when idle. 0 scales to zero (a cold start then takes minutes).
   * @default 0
   */
  readonly minTasks?: number;
  /**
   * Most worker tasks (and GPU instances: one task per GPU).
   * @default 4
   */
  readonly maxTasks?: number;
  /**
   * Jobs (queued + in flight) per running task that autoscaling aims at.
   * @default 2 × batchSize
   */
  readonly targetBacklogPerTask?: number;
  /**
   * The model folders under `models/` that the worker serves and the API describes; the first is
   * the default model. The worker image carries every folder of `models/`.
   * @default the shipped models: ['shapes-mmdit-s', 'shapes-video-s'] (DITSERVE_MODEL_DIRS' default)
   */
  readonly models?: readonly string[];
  /**
   * Images a worker samples together (DITSERVE_BATCH_SIZE).
   * @default 8
   */
  readonly batchSize?: number;
  /**
   * The jobs queue's visibility timeout and the worker's DITSERVE_VISIBILITY_SECONDS (its
   * heartbeat extends a claim every third of it).
   * @default 120
   */
  readonly visibilitySeconds?: number;
  /**
   * Attempts the worker makes at a job before failing it (DITSERVE_MAX_ATTEMPTS).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Receives before SQS dead-letters a job message; larger than maxAttempts so that the worker
   * fails a poison job itself first.
   * @default 5
   */
  readonly jobsMaxReceiveCount?: number;
  /**
   * Seconds a worker gives its batch after SIGTERM (DITSERVE_DRAIN_SECONDS); must be below the
   * container stop timeout, which ECS caps at 120 s.
   * @default 110
   */
  readonly drainSeconds?: number;
  /**
   * Days before generated images expire (objects tagged `ditserve:expiry=output`).
   * @default 7
   */
  readonly outputRetentionDays?: number;
  /**
   * Days before job records, listing index, idempotency claims and delivery logs expire.
   * @default 30
   */
  readonly recordRetentionDays?: number;
  /**
   * Retention of every log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Custom domain of the API (needs certificateArn).
   * @default - none: the execute-api URL
   */
  readonly domainName?: string;
  /**
   * ACM certificate for domainName, in the stack's region.
   * @default - none
   */
  readonly certificateArn?: string;
  /**
   * A WAFv2 web ACL (REGIONAL scope) to associate with the API stage.
   * @default - none
   */
  readonly webAclArn?: string;
  /**
   * API requests per second (steady) and burst, for the whole API.
   * @default 50 and 100
   */
  readonly throttleRateLimit?: number;
  /** @default 100 */
  readonly throttleBurstLimit?: number;
  /**
   * Browser origins allowed to call the API (CORS), e.g. `['https://app.example.com']`, or
   * `['*']` for any.
   * @default - none (CORS off)
   */
  readonly corsOrigins?: readonly string[];
  /**
   * Reserved concurrency of the API function.
   * @default - none (shares the account's unreserved concurrency)
   */
  readonly apiReservedConcurrency?: number;
  /**
   * The worker image. When unset, the stack's ECR repository at `imageTag` is used.
   * @default - `${repository}:${imageTag}`
   */
  readonly imageUri?: string;
  /**
   * Tag of the worker image in the stack's ECR repository.
   * @default 'latest'
   */
  readonly imageTag?: string;
  /**
   * A customer-managed KMS key for the bucket and queues (SSE-KMS).
   * @default - SSE-S3 and SSE-SQS
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * An e-mail address subscribed to the alarm topic.
   * @default - none (subscribe later)
   */
  readonly alarmEmail?: string;
  /**
   * Alarm when the oldest queued job is older than this many seconds.
   * @default 900
   */
  readonly maxJobAgeSeconds?: number;
  /**
   * Whether `cdk destroy` deletes the bucket and its objects.
   * @default RemovalPolicy.RETAIN
   */
  readonly bucketRemovalPolicy?: RemovalPolicy;
  /**
   * Memory (MiB) reserved for a worker task.
   * @default 8192
   */
  readonly workerMemoryMiB?: number;
}

/** Defaults of every optional prop that has one (documented above and in docs/deploy.md). */
export const DEFAULTS = {
  instanceType: 'g5.xlarge',
  spot: false,
  minTasks: 0,
  maxTasks: 4,
  models: SHIPPED_MODEL_DIRS.map((dir) => basename(dir)),
  batchSize: SETTINGS.batchSize.default,
  visibilitySeconds: SETTINGS.visibilitySeconds.default,
  maxAttempts: SETTINGS.maxAttempts.default,
  jobsMaxReceiveCount: 5,
  drainSeconds: SETTINGS.drainSeconds.default,
  outputRetentionDays: 7,
  recordRetentionDays: 30,
  logRetention: logs.RetentionDays.ONE_MONTH,
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  imageTag: 'latest',
  maxJobAgeSeconds: 900,
  workerMemoryMiB: 8192,
  healthPort: SETTINGS.healthPort.default,
  rootVolumeGiB: 100,
} as const;

/** The whole of ditserve: API, queues, bucket, GPU worker, webhook dispatcher, observability. */
export class DitserveStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly storage: DitserveStorage;
  public readonly jobs: QueueWithDeadLetter;
  public readonly outbox: QueueWithDeadLetter;
  public readonly repository: ecr.Repository;
  public readonly alarmTopic: sns.Topic;
  public readonly api: DitserveApi;
  public readonly worker: GpuWorker;
  public readonly dispatcher: WebhookDispatcher;
  public readonly sweeper: JobSweeper;
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: DitserveStackProps = {}) {
    super(scope, id, props);
    const models = props.models ?? DEFAULTS.models;
    const batchSize = props.batchSize ?? DEFAULTS.batchSize;
    const visibilitySeconds = props.visibilitySeconds ?? DEFAULTS.visibilitySeconds;
    const maxAttempts = props.maxAttempts ?? DEFAULTS.maxAttempts;
    const jobsMaxReceiveCount = props.jobsMaxReceiveCount ?? DEFAULTS.jobsMaxReceiveCount;
    const drainSeconds = props.drainSeconds ?? DEFAULTS.drainSeconds;
    const logRetention = props.logRetention ?? DEFAULTS.logRetention;
    validateStackProps({ models, batchSize, visibilitySeconds, maxAttempts, jobsMaxReceiveCount });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      // Public subnets only: GPU instances reach AWS APIs through their public addresses and
      // accept no inbound traffic, so no NAT gateway costs money while idle. S3 traffic stays
      // on the free gateway endpoint.
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', {
          retention: logRetention,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.storage = new DitserveStorage(this, 'Storage', {
      outputRetentionDays: props.outputRetentionDays ?? DEFAULTS.outputRetentionDays,
      recordRetentionDays: props.recordRetentionDays ?? DEFAULTS.recordRetentionDays,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      ...(props.bucketRemovalPolicy ? { removalPolicy: props.bucketRemovalPolicy } : {}),
    });
    const keyOption = props.encryptionKey ? { encryptionKey: props.encryptionKey } : {};
    this.jobs = new QueueWithDeadLetter(this, 'Jobs', {
      visibilityTimeout: Duration.seconds(visibilitySeconds),
      maxReceiveCount: jobsMaxReceiveCount,
      ...keyOption,
    });
    this.outbox = new QueueWithDeadLetter(this, 'WebhookOutbox', {
      // AWS's guidance for Lambda event sources: at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(DISPATCHER_TIMEOUT.toSeconds() * 6),
      maxReceiveCount: 5,
      ...keyOption,
    });

    this.repository = new ecr.Repository(this, 'WorkerRepository', {
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.AES_256,
      lifecycleRules: [{ description: 'Keep the last 10 images', maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const image = props.imageUri
      ? ecs.ContainerImage.fromRegistry(props.imageUri)
      : ecs.ContainerImage.fromEcrRepository(this.repository, props.imageTag ?? DEFAULTS.imageTag);

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ditserve alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    // What every process of the stack reads. The Lambdas build the AWS adapters directly; only
    // the worker, which runs on any backend, is told which one (below).
    const shared: Record<string, string> = {
      DITSERVE_BUCKET: this.storage.bucket.bucketName,
      DITSERVE_JOBS_QUEUE_URL: this.jobs.queue.queueUrl,
      DITSERVE_WEBHOOK_QUEUE_URL: this.outbox.queue.queueUrl,
      ...(props.encryptionKey ? { DITSERVE_KMS_KEY_ARN: props.encryptionKey.keyArn } : {}),
    };

    this.api = new DitserveApi(this, 'Api', {
      environment: shared,
      models,
      logRetention,
      throttleRateLimit: props.throttleRateLimit ?? DEFAULTS.throttleRateLimit,
      throttleBurstLimit: props.throttleBurstLimit ?? DEFAULTS.throttleBurstLimit,
      ...(props.domainName !== undefined ? { domainName: props.domainName } : {}),
      ...(props.certificateArn !== undefined ? { certificateArn: props.certificateArn } : {}),
      ...(props.webAclArn !== undefined ? { webAclArn: props.webAclArn } : {}),
      ...(props.apiReservedConcurrency !== undefined
        ? { reservedConcurrency: props.apiReservedConcurrency }
        : {}),
      ...(props.corsOrigins !== undefined ? { corsOrigins: props.corsOrigins } : {}),
    });

    this.worker = new GpuWorker(this, 'Worker', {
      vpc: cdkInterface<ec2.IVpc>(this.vpc),
      image,
      instanceType: props.instanceType ?? DEFAULTS.instanceType,
      spotInstanceTypes: props.spotInstanceTypes ?? [],
      spot: props.spot ?? DEFAULTS.spot,
      minTasks: props.minTasks ?? DEFAULTS.minTasks,
      maxTasks: props.maxTasks ?? DEFAULTS.maxTasks,
      targetBacklogPerTask: props.targetBacklogPerTask ?? 2 * batchSize,
      drainSeconds,
      healthPort: DEFAULTS.healthPort,
      memoryReservationMiB: props.workerMemoryMiB ?? DEFAULTS.workerMemoryMiB,
      rootVolumeGiB: DEFAULTS.rootVolumeGiB,
      logRetention,
      notificationsTopic: this.alarmTopic,
      environment: {
        ...shared,
        DITSERVE_BACKEND: 'aws',
        DITSERVE_DEVICE: 'cuda',
        DITSERVE_MODEL_DIRS: models.map((m) => `/app/models/${m}`).join(','),
        DITSERVE_BATCH_SIZE: String(batchSize),
        DITSERVE_VISIBILITY_SECONDS: String(visibilitySeconds),
        DITSERVE_MAX_ATTEMPTS: String(maxAttempts),
        DITSERVE_DRAIN_SECONDS: String(drainSeconds),
        DITSERVE_HEALTH_PORT: String(DEFAULTS.healthPort),
      },
    });
    this.worker.scaleOnBacklog(this.jobs.queue);
    this.worker.scaleFromZero(this.jobs.queue);

    this.dispatcher = new WebhookDispatcher(this, 'WebhookDispatcher', {
      outbox: this.outbox.queue,
      environment: shared,
      logRetention,
    });

    this.sweeper = new JobSweeper(this, 'Sweeper', {
      environment: {
        ...shared,
        DITSERVE_VISIBILITY_SECONDS: String(visibilitySeconds),
        DITSERVE_MAX_ATTEMPTS: String(maxAttempts),
      },
      logRetention,
    });

    this.grantApi(this.api.function.grantPrincipal);
    this.grantWorker(this.worker.taskRole);
    this.grantDispatcher(this.dispatcher.function.grantPrincipal);
    this.grantSweeper(this.sweeper.function.grantPrincipal);
    this.repository.grantPull(this.worker.taskDefinition.obtainExecutionRole());

    this.observability = new Observability(this, 'Observability', {
      topic: this.alarmTopic,
      jobs: this.jobs,
      outbox: this.outbox,
      restApi: this.api.restApi,
      apiFunction: this.api.function,
      dispatcherFunction: this.dispatcher.function,
      runningTasks: this.worker.metricRunningTasks(),
      maxJobAge: Duration.seconds(props.maxJobAgeSeconds ?? DEFAULTS.maxJobAgeSeconds),
    });

    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'JobsQueueUrl', { value: this.jobs.queue.queueUrl });
    new CfnOutput(this, 'WorkerRepositoryUri', { value: this.repository.repositoryUri });
    new CfnOutput(this, 'ClusterName', { value: this.worker.cluster.clusterName });
    new CfnOutput(this, 'WorkerServiceName', { value: this.worker.service.serviceName });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });

    addNagSuppressions(this);
  }

  /**
   * The API: creates and reads jobs (records, listing and unfinished indexes, idempotency
   * claims), stores a video job's init image beside it (tagged for expiry as outputs are) and
   * deletes a deleted video's files, reads API key hashes, creates/rotates webhook secrets, reads
   * delivery logs; enqueues jobs and webhook events (cancel, redeliver) and reads the jobs
   * queue's depth (queue position).
   */
  public grantApi(grantee: iam.IGrantable): void {
    const { storage } = this;
    storage.grantObjects(
      grantee,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      ['index', 'unfinished', 'idempotency', 'webhookSecrets'],
    );
    storage.grantObjects(
      grantee,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:PutObjectTagging'],
      ['jobs'],
    );
    storage.grantObjects(grantee, ['s3:GetObject'], ['keys', 'webhooks']);
    this.jobs.queue.grantSendMessages(grantee);
    this.grantQueueAttributes(grantee, this.jobs.queue.queueArn);
    this.outbox.queue.grantSendMessages(grantee);
  }

  /**
   * The worker: claims jobs from the queue (receive, heartbeat, delete), updates job records and
   * the unfinished index (it never creates jobs, so never the listing index), writes outputs (tagged for expiry), and sends webhook
   * events. It also sweeps (sending lost jobs back to the jobs queue).
   */
  public grantWorker(grantee: iam.IGrantable): void {
    this.storage.grantObjects(
      grantee,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:PutObjectTagging'],
      ['jobs', 'unfinished'],
    );
    this.jobs.queue.grantConsumeMessages(grantee);
    this.jobs.queue.grantSendMessages(grantee);
    this.outbox.queue.grantSendMessages(grantee);
  }

  /**
   * The sweeper: reads and updates job records, walks and trims the unfinished index, sends lost
   * jobs back to the jobs queue and unannounced ends to the outbox (signing output URLs).
   */
  public grantSweeper(grantee: iam.IGrantable): void {
    this.storage.grantObjects(
      grantee,
      ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      ['jobs', 'unfinished'],
    );
    this.jobs.queue.grantSendMessages(grantee);
    this.outbox.queue.grantSendMessages(grantee);
  }

  /**
   * The dispatcher: consumes the outbox (granted by its event source), re-sends events with a
   * delay for backoff, reads webhook signing secrets and appends to delivery logs.
   */
  public grantDispatcher(grantee: iam.IGrantable): void {
    this.storage.grantObjects(grantee, ['s3:GetObject'], ['webhookSecrets']);
    this.storage.grantObjects(grantee, ['s3:GetObject', 's3:PutObject'], ['webhooks']);
    this.outbox.queue.grantSendMessages(grantee);
  }

  private grantQueueAttributes(grantee: iam.IGrantable, queueArn: string): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [queueArn] }),
    );
  }
}

/** Throws on settings that contradict each other or the worker's contract. */
export function validateStackProps(p: {
  models: readonly string[];
  batchSize: number;
  visibilitySeconds: number;
  maxAttempts: number;
  jobsMaxReceiveCount: number;
}): void {
  if (p.models.length === 0) throw new Error('models must name at least one folder under models/');
  if (new Set(p.models).size !== p.models.length) {
    throw new Error(`models must not repeat a folder, got ${p.models.join(', ')}`);
  }
  for (const model of p.models) {
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(model)) {
      throw new Error(`models must be folder names under models/, got "${model}"`);
    }
    if (!existsSync(join(REPO_ROOT, 'models', model, 'model_index.json'))) {
      throw new Error(`models/${model}/model_index.json does not exist`);
    }
  }
  requireWholeNumber('batchSize', p.batchSize, 1, 64);
  requireWholeNumber(
    'visibilitySeconds',
    p.visibilitySeconds,
    30,
    43_200,
    'heartbeats every third of it',
  );
  requireWholeNumber('maxAttempts', p.maxAttempts, 1);
  if (p.jobsMaxReceiveCount <= p.maxAttempts) {
    throw new Error(
      `jobsMaxReceiveCount (${p.jobsMaxReceiveCount}) must exceed maxAttempts (${p.maxAttempts}): the worker fails a poison job itself before SQS dead-letters it`,
    );
  }
}

export { ECS_MAX_STOP_TIMEOUT_SECONDS };
