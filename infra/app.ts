#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext } from './context.ts';
import { DitserveStack } from './stack.ts';

const app = new App();
const stackName = app.node.tryGetContext('stackName') as string | undefined;
new DitserveStack(app, stackName ?? 'Ditserve', {
  ...propsFromContext((key) => app.node.tryGetContext(key) as unknown),
  ...(process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
  description: 'ditserve: text-to-image API, GPU worker and webhooks',
});
// Every synth is checked: an unacknowledged AwsSolutions finding fails `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
