import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DitserveStack } from '../../infra/stack.ts';
import {
  actions,
  buildStack,
  resources,
  resourcesOf,
  statementsOfRole,
  type Statement,
} from './helpers.ts';

describe('DitserveStack (defaults)', () => {
  let template: Template;
  let stack: DitserveStack;
  beforeAll(() => {
    ({ template, stack } = buildStack());
  });

  describe('API', () => {
    it('runs Node 22 on arm64 with the stack’s bucket and queues and the model JSON bundled', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('HTTP API'),
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: {
          Variables: Match.objectLike({
            // The default 5-minute timeout minus 30 s for SSE streams.
            DITSERVE_MAX_STREAM_SECONDS: '270',
            DITSERVE_MODEL_DIRS: '/var/task/models/shapes-mmdit-s,/var/task/models/shapes-video-s',
            DITSERVE_BUCKET: { Ref: Match.stringLikeRegexp('^StorageBucket') },
            DITSERVE_JOBS_QUEUE_URL: { Ref: Match.stringLikeRegexp('^JobsQueue') },
            DITSERVE_WEBHOOK_QUEUE_URL: { Ref: Match.stringLikeRegexp('^WebhookOutboxQueue') },
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
    });

    it('streams responses through API Gateway (SSE) on every route', () => {
      const methods = resourcesOf(template, 'AWS::ApiGateway::Method');
      expect(methods).toHaveLength(2); // / and /{proxy+}, ANY
      for (const [, m] of methods) {
        const integration = m.Properties?.Integration as Record<string, unknown>;
        expect(integration.Type).toBe('AWS_PROXY');
        expect(integration.ResponseTransferMode).toBe('STREAM');
        expect(JSON.stringify(integration.Uri)).toContain('response-streaming-invocations');
        expect(integration.TimeoutInMillis).toBe(300_000);
      }
    });

    it('throttles the stage and writes JSON access logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        MethodSettings: Match.arrayWith([
          Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
        ]),
        AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      });
    });

    it('has no custom domain and no WAF unless asked', () => {
      template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
      template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    });
  });

  describe('queues', () => {
    it('jobs queue: visibility = the worker’s, DLQ after 5 receives (> 3 attempts), SSE-SQS', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: 120,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^JobsDeadLetter'), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
    });

    it('outbox: visibility 6× the dispatcher timeout, its own DLQ', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: 180,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookOutboxDeadLetter'), 'Arn'],
          },
          maxReceiveCount: 5,
        },
      });
    });

    it('every queue (and DLQ) is encrypted and denies non-TLS access', () => {
      const queues = resourcesOf(template, 'AWS::SQS::Queue');
      expect(queues).toHaveLength(4);
      for (const [, q] of queues) expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
      const policies = resourcesOf(template, 'AWS::SQS::QueuePolicy');
      const secured = policies
        .filter(([, p]) =>
          JSON.stringify(p.Properties?.PolicyDocument).includes('"aws:SecureTransport":"false"'),
        )
        .flatMap(([, p]) => p.Properties?.Queues as unknown[]);
      expect(secured).toHaveLength(4);
    });
  });

  describe('bucket', () => {
    it('blocks public access, encrypts, enforces TLS and logs access; no versioning', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'ditserve-bucket/' }),
        VersioningConfiguration: Match.absent(),
      });
      const tlsDenied = resourcesOf(template, 'AWS::S3::BucketPolicy').filter(([, p]) =>
        JSON.stringify(p.Properties?.PolicyDocument).includes('"aws:SecureTransport":"false"'),
      );
      expect(tlsDenied).toHaveLength(2); // the bucket and its access-log bucket
    });

    it('expires outputs after 7 days (tagged) and records after 30', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Id: 'expire-outputs',
              Prefix: 'jobs/',
              TagFilters: [{ Key: 'ditserve:expiry', Value: 'output' }],
              ExpirationInDays: 7,
              Status: 'Enabled',
            }),
            Match.objectLike({ Id: 'expire-job-records', Prefix: 'jobs/', ExpirationInDays: 30 }),
            Match.objectLike({ Id: 'expire-index', Prefix: 'index/', ExpirationInDays: 30 }),
            Match.objectLike({ Id: 'expire-idempotency', Prefix: 'idempotency/' }),
          ]),
        },
      });
    });
  });

  describe('GPU worker', () => {
    it('launches g5.xlarge from the ECS GPU-optimized AMI, IMDSv2 only, encrypted root volume', () => {
      template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
        LaunchTemplateData: Match.objectLike({
          InstanceType: 'g5.xlarge',
          ImageId: { Ref: Match.stringLikeRegexp('amazonlinux2gpurecommended') },
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
          BlockDeviceMappings: [
            Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }),
          ],
        }),
      });
      const params = JSON.stringify(template.toJSON().Parameters);
      expect(params).toContain(
        '/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id',
      );
    });

    it('cluster has Container Insights; the capacity provider manages scaling, termination protection and draining', () => {
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
      template.resourceCountIs('AWS::ECS::CapacityProvider', 1);
      template.hasResourceProperties('AWS::ECS::CapacityProvider', {
        AutoScalingGroupProvider: Match.objectLike({
          ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
          ManagedTerminationProtection: 'ENABLED',
          ManagedDraining: 'ENABLED',
        }),
      });
      template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        MinSize: '0',
        MaxSize: '4',
        NewInstancesProtectedFromScaleIn: true,
      });
    });

    it('task: one GPU, health check on /healthz, stop timeout 120 s (ECS max) > drain 110 s', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        NetworkMode: 'bridge',
        RequiresCompatibilities: ['EC2'],
        ContainerDefinitions: [
          Match.objectLike({
            ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
            StopTimeout: 120,
            HealthCheck: Match.objectLike({
              Command: Match.arrayWith([Match.stringLikeRegexp('/healthz')]),
              StartPeriod: 120,
            }),
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
            Environment: Match.arrayWith([
              { Name: 'DITSERVE_BACKEND', Value: 'aws' },
              { Name: 'DITSERVE_DEVICE', Value: 'cuda' },
              {
                Name: 'DITSERVE_MODEL_DIRS',
                Value: '/app/models/shapes-mmdit-s,/app/models/shapes-video-s',
              },
              { Name: 'DITSERVE_BATCH_SIZE', Value: '8' },
              { Name: 'DITSERVE_VISIBILITY_SECONDS', Value: '120' },
              { Name: 'DITSERVE_MAX_ATTEMPTS', Value: '3' },
              { Name: 'DITSERVE_DRAIN_SECONDS', Value: '110' },
            ]),
          }),
        ],
      });
    });

    it('runs the image from the stack’s ECR repository (no Docker at synth)', () => {
      template.hasResourceProperties('AWS::ECR::Repository', {
        ImageScanningConfiguration: { ScanOnPush: true },
      });
      const image = JSON.stringify(
        (
          resourcesOf(template, 'AWS::ECS::TaskDefinition')[0]?.[1].Properties
            ?.ContainerDefinitions as { Image: unknown }[]
        )[0]?.Image,
      );
      expect(image).toMatch(/WorkerRepository/);
      expect(image).toContain(':latest');
      expect(Object.keys(stack.node.metadata)).not.toContain('aws:cdk:asset');
    });

    it('service on the on-demand provider, starting at minTasks, circuit breaker on', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        DesiredCount: 0,
        CapacityProviderStrategy: [
          {
            CapacityProvider: { Ref: Match.stringLikeRegexp('OnDemandCapacityProvider') },
            Weight: 1,
          },
        ],
        DeploymentConfiguration: Match.objectLike({
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        }),
      });
    });

    it('scales on backlog per task by metric math and wakes from zero with a step policy', () => {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        ServiceNamespace: 'ecs',
        ScalableDimension: 'ecs:service:DesiredCount',
        MinCapacity: 0,
        MaxCapacity: 4,
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          TargetValue: 16,
          CustomizedMetricSpecification: {
            Metrics: Match.arrayWith([
              Match.objectLike({
                Id: 'visible',
                MetricStat: Match.objectLike({
                  Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }),
                }),
              }),
              Match.objectLike({
                Id: 'tasks',
                MetricStat: Match.objectLike({
                  Metric: Match.objectLike({
                    Namespace: 'ECS/ContainerInsights',
                    MetricName: 'RunningTaskCount',
                  }),
                }),
              }),
              {
                Id: 'backlogPerTask',
                Label: Match.anyValue(),
                Expression: '(visible + inflight) / tasks',
                ReturnData: true,
              },
            ]),
          },
        }),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: Match.objectLike({
          AdjustmentType: 'ExactCapacity',
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
        }),
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'IF(visible > 0 AND inflight == 0, 1, 0)' }),
        ]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('WakeFromZero') }],
      });
    });
  });

  describe('webhook dispatcher', () => {
    it('consumes the outbox with partial batch failures and bounded concurrency', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookOutboxQueue'), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 10 },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('webhook dispatcher'),
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Timeout: 30,
      });
    });
  });

  describe('job sweeper', () => {
    it('runs every minute, one pass at a time, with the worker’s visibility and attempts', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: Match.arrayWith([
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperFunction'), 'Arn'] },
          }),
        ]),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('job sweeper'),
        Runtime: 'nodejs22.x',
        ReservedConcurrentExecutions: 1,
        Environment: {
          Variables: Match.objectLike({
            DITSERVE_VISIBILITY_SECONDS: '120',
            DITSERVE_MAX_ATTEMPTS: '3',
          }),
        },
      });
    });

    it('may re-send jobs and announce ends, and touches only records and the unfinished index', () => {
      const stmts = statementsOfRole(template, 'SweeperRole');
      const s3 = stmts
        .filter((st) => actions(st).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'))
        .map(resources)
        .join(' ');
      expect(s3).toContain('/jobs/*');
      expect(s3).toContain('/unfinished/*');
      expect(s3).not.toMatch(/keys\/|webhook-secrets\/|idempotency\/|index\//);
      const sends = (queue: string) =>
        stmts.filter((st) => resources(st).includes(queue)).flatMap(actions);
      expect(sends('JobsQueue')).toContain('sqs:SendMessage');
      expect(sends('JobsQueue')).not.toContain('sqs:ReceiveMessage');
      expect(sends('WebhookOutboxQueue')).toContain('sqs:SendMessage');
    });
  });

  describe('IAM (least privilege)', () => {
    it('no statement allows every action, or a service wildcard', () => {
      for (const [, p] of resourcesOf(template, 'AWS::IAM::Policy')) {
        for (const s of (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement) {
          for (const a of actions(s)) expect(a).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
        }
      }
    });

    it('Resource "*" only for actions without resource-level permissions', () => {
      const allowed = new Set([
        'ecr:GetAuthorizationToken',
        'ecs:DiscoverPollEndpoint',
        'ecs:CreateCluster',
        'ecs:Poll',
        'ecs:StartTelemetrySession',
        'ecs:RegisterContainerInstance',
        'ecs:DeregisterContainerInstance',
        'ecs:Submit*',
        'ecs:UpdateContainerInstancesState',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
      for (const [, p] of resourcesOf(template, 'AWS::IAM::Policy')) {
        for (const s of (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement) {
          if (s.Resource !== '*') continue;
          for (const a of actions(s)) expect(allowed, `${a} on *`).toContain(a);
        }
      }
    });

    it('Lambda roles carry no managed policy (their log group only)', () => {
      const roles = resourcesOf(template, 'AWS::IAM::Role').filter(([id]) =>
        /^(ApiRole|WebhookDispatcherRole|SweeperRole)/.test(id),
      );
      expect(roles).toHaveLength(3);
      for (const [, role] of roles) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    });

    it('each component reaches only its own key prefixes', () => {
      const s3 = (prefix: string) => {
        const stmts = statementsOfRole(template, prefix).filter((s) =>
          actions(s).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'),
        );
        return stmts.map(resources).join(' ');
      };
      const api = s3('ApiRole');
      for (const p of [
        'jobs/',
        'index/',
        'unfinished/',
        'idempotency/',
        'keys/',
        'webhook-secrets/',
        'webhooks/',
      ]) {
        expect(api).toContain(`/${p}*`);
      }
      const worker = s3('WorkerTaskTaskRole');
      expect(worker).toContain('/jobs/*');
      expect(worker).toContain('/unfinished/*');
      expect(worker).not.toMatch(/keys\/|webhook-secrets\/|idempotency\//);
      const dispatcher = s3('WebhookDispatcherRole');
      expect(dispatcher).toContain('/webhook-secrets/*');
      expect(dispatcher).toContain('/webhooks/*');
      expect(dispatcher).not.toMatch(/\/jobs\/|\/keys\//);
    });

    it('the API may tag what it writes under jobs/ (init images expire like outputs), nothing else', () => {
      const tagging = statementsOfRole(template, 'ApiRole').filter((s) =>
        actions(s).includes('s3:PutObjectTagging'),
      );
      expect(tagging.map(resources).join(' ')).toMatch(/\/jobs\/\*/);
      expect(tagging.map(resources).join(' ')).not.toMatch(/index\/|keys\/|webhook/);
    });

    it('the API reads keys but cannot write them', () => {
      const keyStatements = statementsOfRole(template, 'ApiRole').filter((s) =>
        resources(s).includes('/keys/*'),
      );
      expect(keyStatements.flatMap(actions)).toEqual(['s3:GetObject']);
    });

    it('the worker consumes the jobs queue (and re-sends lost jobs) and only sends to the outbox', () => {
      const stmts = statementsOfRole(template, 'WorkerTaskTaskRole');
      const onJobs = stmts.filter((s) => resources(s).includes('JobsQueue')).flatMap(actions);
      expect(onJobs).toEqual(
        expect.arrayContaining([
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
        ]),
      );
      const onOutbox = stmts
        .filter((s) => resources(s).includes('WebhookOutboxQueue'))
        .flatMap(actions);
      expect(onOutbox).toContain('sqs:SendMessage');
      expect(onOutbox).not.toContain('sqs:ReceiveMessage');
    });
  });

  describe('observability', () => {
    it('every log group has a retention', () => {
      const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
      expect(groups.length).toBeGreaterThanOrEqual(5);
      for (const [, g] of groups) expect(g.Properties?.RetentionInDays).toBe(30);
    });

    it('alarms on DLQ depth, oldest message age, worker errors and API 5xx, to the topic', () => {
      const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) =>
        JSON.stringify(a.Properties),
      );
      const has = (re: RegExp) => alarms.filter((a) => re.test(a)).length;
      expect(has(/DeadLetter.*ApproximateNumberOfMessagesVisible/)).toBe(2);
      expect(has(/ApproximateAgeOfOldestMessage/)).toBe(2);
      expect(has(/"MetricName":"WorkerErrors".*"Namespace":"ditserve"/)).toBe(1);
      expect(has(/"MetricName":"5XXError"/)).toBe(1);
      const paging = alarms.filter((a) => a.includes('AlarmTopic'));
      expect(paging.length).toBeGreaterThanOrEqual(8);
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });
  });
});

describe('DitserveStack (props)', () => {
  it('Spot: a second, Spot-only group and a 3:1 Spot/on-demand strategy', () => {
    const { template } = buildStack({ spot: true, spotInstanceTypes: ['g6.xlarge'] });
    template.resourceCountIs('AWS::ECS::CapacityProvider', 2);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MixedInstancesPolicy: Match.objectLike({
        InstancesDistribution: Match.objectLike({
          OnDemandPercentageAboveBaseCapacity: 0,
          SpotAllocationStrategy: 'price-capacity-optimized',
        }),
        LaunchTemplate: Match.objectLike({
          Overrides: [{ InstanceType: 'g5.xlarge' }, { InstanceType: 'g6.xlarge' }],
        }),
      }),
      CapacityRebalance: true,
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [
        { CapacityProvider: { Ref: Match.stringLikeRegexp('SpotCapacityProvider') }, Weight: 3 },
        {
          CapacityProvider: { Ref: Match.stringLikeRegexp('OnDemandCapacityProvider') },
          Weight: 1,
        },
      ],
    });
  });

  it('instance type, task bounds, retention, image and domain come from props', () => {
    const { template } = buildStack({
      instanceType: 'g6.2xlarge',
      minTasks: 1,
      maxTasks: 8,
      outputRetentionDays: 3,
      recordRetentionDays: 14,
      imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ditserve:v1',
      domainName: 'api.example.com',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y',
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.2xlarge' }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 8,
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-outputs', ExpirationInDays: 3 }),
          Match.objectLike({ Id: 'expire-job-records', ExpirationInDays: 14 }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/ditserve:v1' }),
      ],
    });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'api.example.com',
      SecurityPolicy: 'TLS_1_2',
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it.each([
    [{ instanceType: 'm5.xlarge' }, /not an x86 NVIDIA GPU/],
    [{ instanceType: 'g5g.xlarge' }, /not an x86 NVIDIA GPU/],
    [{ minTasks: 3, maxTasks: 2 }, /maxTasks/],
    [{ maxTasks: 0 }, /maxTasks/],
    [{ drainSeconds: 120 }, /stop timeout of 120 s/],
    [{ maxAttempts: 5, jobsMaxReceiveCount: 5 }, /must exceed maxAttempts/],
    [{ visibilitySeconds: 10 }, /visibilitySeconds/],
    [{ outputRetentionDays: 10, recordRetentionDays: 5 }, /recordRetentionDays/],
    [{ outputRetentionDays: 0 }, /outputRetentionDays/],
    [{ domainName: 'api.example.com' }, /domainName and certificateArn/],
    [{ models: ['shapes-mmdit-s', 'no-such-model'] }, /model_index.json does not exist/],
    [{ models: ['../etc'] }, /folder names/],
    [{ models: [] }, /at least one/],
    [{ models: ['shapes-mmdit-s', 'shapes-mmdit-s'] }, /must not repeat/],
  ])('rejects %j', (props, message) => {
    expect(() => buildStack(props)).toThrow(message);
  });
});
