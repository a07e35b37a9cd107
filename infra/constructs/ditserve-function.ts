import { join } from 'node:path';
import { RemovalPolicy, type Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT } from '../model-files.ts';
import { lambdaBundling } from './bundling.ts';
import { lambdaExecutionRole } from './lambda-role.ts';

export interface DitserveFunctionProps {
  /** The handler module, relative to the repository root (it exports `handler`). */
  readonly entry: string;
  readonly description: string;
  /** The role's description (IAM allows no arrows or other symbols there). */
  readonly roleDescription: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
}

/**
 * What every small ditserve Lambda is: its own log group with a retention, a role that may write
 * only there, and a Node 22 arm64 function bundled as one ES module. Children `Logs`, `Role` and
 * `Function` of `scope`, so the logical ids read as the construct's.
 */
export function ditserveFunction(
  scope: Construct,
  props: DitserveFunctionProps,
): { function: NodejsFunction; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = lambdaExecutionRole(scope, 'Role', logGroup, props.roleDescription);
  const fn = new NodejsFunction(scope, 'Function', {
    entry: join(REPO_ROOT, props.entry),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ...(props.reservedConcurrentExecutions !== undefined
      ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
      : {}),
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    description: props.description,
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: lambdaBundling(),
  });
  return { function: fn, logGroup };
}
