import { Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { BUCKET_PREFIXES } from './constructs/storage.ts';
import type { DitserveStack } from './stack.ts';

const ack = (scope: IConstruct, id: string, reason: string) => {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
};

/**
 * Every cdk-nag AwsSolutions acknowledgement of the stack, each on the narrowest construct and
 * with its reason. Anything not listed here fails `cdk synth` (the app adds the AwsSolutions pack)
 * and tests/infra/nag.test.ts.
 */
export function addNagSuppressions(stack: DitserveStack): void {
  const { api, worker, dispatcher, sweeper, storage } = stack;

  // IAM5 — object ARNs under one key prefix. Object keys embed the tenant and job id, so the
  // prefix is the narrowest resource; each role gets only the prefixes its component uses.
  const bucketId = stack.getLogicalId(storage.bucket.node.defaultChild as CfnElement);
  for (const role of [
    api.function.role,
    worker.taskRole,
    dispatcher.function.role,
    sweeper.function.role,
  ]) {
    if (!role) continue;
    for (const prefix of Object.values(BUCKET_PREFIXES)) {
      ack(
        role,
        `IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        `Objects under ${prefix} are named by tenant and job id at run time; the prefix is the narrowest ARN.`,
      );
    }
  }

  // L1 — Node 22, not the newest Lambda runtime: the issue fixes Node 22 because the code must
  // stay compatible with the Node 20 of the build machines and CI, and Node 20 is end of life.
  for (const fn of [api.function, dispatcher.function, sweeper.function]) {
    ack(
      fn,
      'L1',
      'Node.js 22 is the chosen runtime: nearest supported line to the Node 20 the code is built and tested on.',
    );
  }

  // API Gateway: the app is the authority on requests and identities.
  ack(
    api.restApi,
    'APIG2',
    'Proxy integration: the Hono app validates every request body and parameter (zod) and answers problem+json 400/422.',
  );
  for (const id of ['APIG4', 'COG4']) {
    ack(
      api.restApi,
      id,
      'Clients authenticate with ditserve API keys (Bearer), checked by the app against SHA-256 hashes in the bucket (always on in the Lambda entry, functions/api/lambda-deps.ts); OpenAI-compatible clients cannot use IAM or Cognito.',
    );
  }
  ack(
    api.restApi,
    'APIG6',
    'Execution logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account, one per region, shared with other stacks); the stage writes JSON access logs and the function logs every request.',
  );
  if (!api.webAcl) {
    ack(
      api.restApi,
      'APIG3',
      'WAF is optional (webAclArn prop): stage throttling bounds request rates; a web ACL costs ≥ $5/month even when idle.',
    );
  }

  // The GPU instances and the task execution role: AWS-defined permissions without resource-level
  // support.
  ack(
    worker,
    'IAM5[Resource::*]',
    'ECS container-instance actions (ecs:DiscoverPollEndpoint, ecs:CreateCluster, ecr:GetAuthorizationToken, logs on the agent) and the execution role’s ecr:GetAuthorizationToken support no resource-level permissions.',
  );
  ack(
    worker,
    'IAM5[Action::ecs:Submit*]',
    'The ECS agent’s standard state-change actions (SubmitTaskStateChange, SubmitContainerStateChange, SubmitAttachmentStateChanges), scoped to this cluster by CDK.',
  );
  if (worker.spotCapacity) {
    ack(
      worker.spotCapacity.autoScalingGroup,
      'EC26',
      'The Spot group launches from a launch template whose only volume is encrypted (asserted in tests/infra); cdk-nag does not follow a MixedInstancesPolicy to its launch template.',
    );
  }
  ack(
    worker.taskDefinition,
    'ECS2',
    'The environment holds only non-secret configuration (bucket name, queue URLs, model folder, sizes); keys and webhook secrets live encrypted in the bucket.',
  );
}
