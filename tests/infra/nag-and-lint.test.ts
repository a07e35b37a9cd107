import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from './helpers.ts';

const VARIANTS = {
  'on-demand (defaults)': {},
  'spot, custom domain, WAF, alarm e-mail': {
    spot: true,
    spotInstanceTypes: ['g6.xlarge'],
    domainName: 'api.example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
    webAclArn: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y',
    alarmEmail: 'ops@example.com',
  },
} as const;

describe.each(Object.entries(VARIANTS))('%s', (_name, props) => {
  let built: ReturnType<typeof buildStack>;
  let dir: string;
  beforeAll(() => {
    built = buildStack(props);
    dir = mkdtempSync(join(tmpdir(), 'ditserve-cfn-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(built.app, { verbose: true }).validateScope(built.stack);
    const findings = report.violations.map(
      (v) =>
        `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('every acknowledgement carries a reason', () => {
    const acks = built.app.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
      .flatMap((m) => Object.values(m.data as Record<string, unknown>));
    expect(acks.length).toBeGreaterThan(5);
    for (const reason of acks) expect(JSON.stringify(reason).length).toBeGreaterThan(40);
  });

  it('cfn-lint: no errors on the synthesized template', () => {
    const which = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) {
      throw new Error(
        'cfn-lint is not on PATH: install it (pip install cfn-lint) — this check must run, not skip',
      );
    }
    const file = join(dir, 'Ditserve.template.json');
    writeFileSync(file, JSON.stringify(built.template.toJSON()));
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const matches = JSON.parse(run.stdout || '[]') as {
      Level: string;
      Rule: { Id: string };
      Message: string;
    }[];
    const errors = matches
      .filter((m) => m.Level === 'Error')
      .map((m) => `${m.Rule.Id} ${m.Message}`);
    expect(errors).toEqual([]);
    // Exit status is a bit mask: 2 = errors (warnings, 4, and informational, 8, are allowed).
    expect((run.status ?? 2) & 2).toBe(0);
  });
});

it('cfn-lint is the one this project expects', () => {
  expect(execFileSync('cfn-lint', ['--version'], { encoding: 'utf8' })).toMatch(/cfn-lint 1\./);
});
