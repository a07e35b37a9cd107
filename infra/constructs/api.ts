import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { copyApiAssetsCommands } from '../api-assets.ts';
import { copyModelMetadataCommands, REPO_ROOT } from '../model-files.ts';
import { lambdaBundling } from './bundling.ts';
import { lambdaExecutionRole } from './lambda-role.ts';

const STAGE = 'prod';

export interface DitserveApiProps {
  /** Environment shared by every component (bucket, queue URLs, backend). */
  readonly environment: Readonly<Record<string, string>>;
  /** The model folder names under `models/` whose JSON files go into the bundle (the first is the default). */
  readonly models: readonly string[];
  readonly logRetention: logs.RetentionDays;
  /** Steady-state requests per second for the whole API (API Gateway stage throttling). */
  readonly throttleRateLimit: number;
  /** Burst bucket size of the same throttle. */
  readonly throttleBurstLimit: number;
  /** @default - no custom domain: the execute-api URL */
  readonly domainName?: string;
  /** ACM certificate (same region as the stack) for `domainName`. */
  readonly certificateArn?: string;
  /** @default - no WAF web ACL */
  readonly webAclArn?: string;
  /** @default - unreserved (the account's shared concurrency) */
  readonly reservedConcurrency?: number;
  /**
   * Browser origins that may call the API (DITSERVE_CORS_ORIGINS), or `['*']` for any.
   * @default - none: CORS off, browsers on other origins cannot read answers
   */
  readonly corsOrigins?: readonly string[];
  /**
   * How long one request may run: SSE streams and `Prefer: wait` hold it open.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
}

/**
 * The Hono API on Lambda (Node 22, arm64, one minified ESM file) behind an API Gateway REST API
 * whose Lambda proxy integration streams the response (SSE). Why not a function URL behind
 * CloudFront: see docs/deploy.md ("Front door").
 */
export class DitserveApi extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly accessLogGroup: logs.LogGroup;
  public readonly restApi: apigw.RestApi;
  public readonly domain?: apigw.DomainName;
  public readonly webAcl?: wafv2.CfnWebACLAssociation;
  /** The URL clients use (custom domain when given). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: DitserveApiProps) {
    super(scope, id);
    if ((props.domainName === undefined) !== (props.certificateArn === undefined)) {
      throw new Error('domainName and certificateArn go together: give both or neither');
    }
    if (props.throttleRateLimit <= 0 || props.throttleBurstLimit < 1) {
      throw new Error('throttleRateLimit must be > 0 and throttleBurstLimit ≥ 1');
    }
    const timeout = props.timeout ?? Duration.minutes(5);
    if (timeout.toSeconds() > 900) throw new Error('timeout must be at most 15 minutes');

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = lambdaExecutionRole(this, 'Role', this.logGroup, 'ditserve API function');

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'functions/api/lambda.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout,
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: 'ditserve HTTP API (Hono, response streaming)',
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      environment: {
        ...props.environment,
        DITSERVE_MODEL_DIRS: props.models.map((m) => `/var/task/models/${m}`).join(','),
        ...(props.corsOrigins?.length
          ? { DITSERVE_CORS_ORIGINS: props.corsOrigins.join(',') }
          : {}),
        // SSE streams and `Prefer: wait` end before the function's timeout would cut them.
        DITSERVE_MAX_STREAM_SECONDS: String(Math.max(10, timeout.toSeconds() - 30)),
        DITSERVE_MAX_WAIT_SECONDS: String(Math.min(60, Math.max(0, timeout.toSeconds() - 30))),
        // Stack traces point into the TypeScript sources (the bundle ships its .map file).
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: lambdaBundling({
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The models' JSON files (requests are checked against them), Swagger UI and the
          // playground (pages served from the function itself).
          afterBundling: (_input, outputDir) => [
            ...props.models.flatMap((m) =>
              copyModelMetadataCommands(join(REPO_ROOT, 'models', m), outputDir, m),
            ),
            ...copyApiAssetsCommands(outputDir),
          ],
        },
      }),
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      description: 'ditserve API',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Clients call the custom domain when there is one.
      disableExecuteApiEndpoint: false,
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        metricsEnabled: true,
        tracingEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
    });
    const integration = new apigw.LambdaIntegration(this.function, {
      proxy: true,
      responseTransferMode: apigw.ResponseTransferMode.STREAM,
      timeout,
    });
    this.restApi.root.addMethod('ANY', integration);
    this.restApi.root.addProxy({ defaultIntegration: integration, anyMethod: true });

    if (props.domainName !== undefined && props.certificateArn !== undefined) {
      this.domain = this.restApi.addDomainName('Domain', {
        domainName: props.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        basePath: '',
      });
      this.url = `https://${props.domainName}/`;
    } else {
      // execute-api URLs carry the stage (`…/prod/`); API Gateway strips it before the function
      // sees the path, so routes stay `/v1/...`.
      this.url = this.restApi.url;
    }
    // The links the API writes go here, never to a request's Host header. Built from the API's
    // id and the literal stage name: restApi.url refers to the stage, which depends on the
    // function through its methods (a cycle).
    this.function.addEnvironment(
      'DITSERVE_PUBLIC_URL',
      props.domainName !== undefined
        ? `https://${props.domainName}`
        : `https://${this.restApi.restApiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}/${STAGE}`,
    );
    if (props.webAclArn !== undefined) {
      this.webAcl = new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.restApi.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }
    new CfnOutput(this, 'Url', { value: this.url, description: 'ditserve API base URL' });
  }

  /** The API's own calls: the IAM grants are made by the stack (see DitserveStack.grantApi). */
  public get grantPrincipal(): iam.IPrincipal {
    return this.function.grantPrincipal;
  }
}
