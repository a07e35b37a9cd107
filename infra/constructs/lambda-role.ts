import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * A Lambda execution role that may write only to its own log group, instead of the managed
 * AWSLambdaBasicExecutionRole (which allows every log group of the account).
 */
export function lambdaExecutionRole(
  scope: Construct,
  id: string,
  logGroup: logs.ILogGroup,
  description: string,
): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      // The log group's ARN ends in `:*`, which covers its streams and nothing else.
      resources: [logGroup.logGroupArn],
    }),
  );
  return role;
}
