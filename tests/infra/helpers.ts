import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DitserveStack, type DitserveStackProps } from '../../infra/stack.ts';

export const REPO = join(import.meta.dirname, '..', '..');

/** The feature flags of cdk.json, so that tests build the stack the CLI builds. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/**
 * The stack with cdk.json's context. Lambda bundling is skipped (`aws:cdk:bundling-stacks`
 * empty) so these tests need neither esbuild runs nor the handlers' dependencies;
 * tests/infra/synth.test.ts runs the real `cdk synth` with bundling.
 */
export function buildStack(props: DitserveStackProps = {}): {
  app: App;
  stack: DitserveStack;
  template: Template;
} {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new DitserveStack(app, 'Ditserve', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Logical ids of the resources of a type whose properties match `pred`. */
export function resourcesOf(
  template: Template,
  type: string,
): [string, { Properties?: Record<string, unknown> }][] {
  return Object.entries(
    template.findResources(type) as Record<string, { Properties?: Record<string, unknown> }>,
  );
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of every inline policy attached to a role whose logical id starts with `prefix`. */
export function statementsOfRole(template: Template, prefix: string): Statement[] {
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, r]) =>
      (r.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(prefix)),
    )
    .flatMap(([, r]) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

export const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resources = (s: Statement) => JSON.stringify(s.Resource);
