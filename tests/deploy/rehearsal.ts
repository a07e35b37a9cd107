import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Moto } from '../helpers/moto.ts';
import { cloudFormation, members, ssm, tagText } from './moto-api.ts';
import type { CfnResource, CfnTemplate, Synthesized } from './synth.ts';
import { zipFolder } from './zip.ts';

/** moto's account and the region our moto clients use. */
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const QUALIFIER = 'hnb659fds';
export const ASSETS_BUCKET = `cdk-${QUALIFIER}-assets-${ACCOUNT}-${REGION}`;
export const BOOTSTRAP_VERSION_PARAMETER = `/cdk-bootstrap/${QUALIFIER}/version`;

export type Outcome =
  | 'created'
  | 'recorded, not run' // a custom resource: moto cannot run the Lambda behind it
  | 'type not emulated' // moto has no CloudFormation model for the type
  | 'depends on one not emulated';

export interface ResourceRow {
  readonly logicalId: string;
  readonly type: string;
  readonly outcome: Outcome;
  readonly physicalId?: string | undefined;
  readonly note?: string | undefined;
}

export interface Rehearsal {
  readonly stackName: string;
  readonly stackStatus: string;
  readonly rows: ResourceRow[];
  /** logical id → physical id of what moto created. */
  readonly physical: ReadonlyMap<string, string>;
}

const sub = (s: string) =>
  s
    .replaceAll('${AWS::AccountId}', ACCOUNT)
    .replaceAll('${AWS::Region}', REGION)
    .replaceAll('${AWS::Partition}', 'aws');

/** What `cdk bootstrap` leaves that a deploy reads: the assets bucket and the version parameter. */
async function bootstrap(moto: Moto): Promise<void> {
  await moto.s3.send(new CreateBucketCommand({ Bucket: ASSETS_BUCKET }));
  await ssm(moto.endpoint, 'PutParameter', {
    Name: BOOTSTRAP_VERSION_PARAMETER,
    Value: '30',
    Type: 'String',
    Overwrite: true,
  });
}

/**
 * The SSM parameters the template reads (the GPU AMI): moto ships AWS's public `/aws/service/…`
 * parameters and refuses writes there, so one is put only where moto lacks it.
 */
async function ensureParameters(moto: Moto, template: CfnTemplate): Promise<string[]> {
  const names = Object.values(template.Parameters ?? {})
    .filter((p) => p.Type.startsWith('AWS::SSM::Parameter::Value') && p.Default)
    .map((p) => p.Default ?? '');
  for (const name of names) {
    try {
      await ssm(moto.endpoint, 'GetParameter', { Name: name });
    } catch {
      await ssm(moto.endpoint, 'PutParameter', {
        Name: name,
        Value: 'ami-0123456789abcdef0',
        Type: 'String',
      });
    }
  }
  return names;
}

/** The CDK CLI's asset publishing: folders zipped, files as they are, to their destinations. */
async function publishAssets(moto: Moto, synth: Synthesized): Promise<string> {
  let templateKey = '';
  for (const asset of Object.values(synth.assets.files)) {
    const path = join(synth.dir, asset.source.path);
    const body =
      asset.source.packaging === 'zip' || statSync(path).isDirectory()
        ? zipFolder(path)
        : readFileSync(path);
    for (const d of Object.values(asset.destinations)) {
      await moto.s3.send(
        new PutObjectCommand({ Bucket: sub(d.bucketName), Key: sub(d.objectKey), Body: body }),
      );
      if (asset.source.path.endsWith('.template.json')) templateKey = sub(d.objectKey);
    }
  }
  if (!templateKey) throw new Error('the assembly has no template asset');
  return templateKey;
}

/** Logical ids a value refers to (Ref, Fn::GetAtt, Fn::Sub). */
export function referencesIn(value: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (k === 'Ref' && typeof inner === 'string') out.add(inner);
        else if (k === 'Fn::GetAtt')
          out.add(Array.isArray(inner) ? String(inner[0]) : (String(inner).split('.')[0] ?? ''));
        else if (k === 'Fn::Sub') {
          const s = Array.isArray(inner) ? String(inner[0]) : String(inner);
          for (const m of s.matchAll(/\$\{([^}!.]+)[^}]*\}/g)) out.add(m[1] ?? '');
          walk(inner);
        } else walk(inner);
      }
    }
  };
  walk(value);
  return out;
}

function dependsOn(r: CfnResource): string[] {
  return typeof r.DependsOn === 'string' ? [r.DependsOn] : (r.DependsOn ?? []);
}

/** `left` plus every resource that refers to one in it, transitively, with what it needed. */
function withDependents(template: CfnTemplate, left: Map<string, string>): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const [id, r] of Object.entries(template.Resources)) {
      if (left.has(id)) continue;
      const needs = [...referencesIn(r.Properties ?? {}), ...dependsOn(r)].find((d) => left.has(d));
      if (needs) {
        left.set(id, needs);
        changed = true;
      }
    }
  }
}

/**
 * moto's CloudFormation names an ECR repository after the stack and logical id, in capitals,
 * and then its own ECR rejects the name (CloudFormation itself makes a lower-case one). The
 * rehearsal gives the repository the lower-case name CloudFormation would; nothing else changes.
 */
function motoNamingWorkaround(template: CfnTemplate, stackName: string): void {
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::ECR::Repository' && !r.Properties?.RepositoryName) {
      r.Properties = { ...r.Properties, RepositoryName: `${stackName}-${id}`.toLowerCase() };
    }
  }
}

/**
 * `cdk deploy` on moto_server: bootstrap resources, the assets published, the AMI parameter,
 * then CreateStack with the synthesized template (from the assets bucket, as the CLI does with a
 * template over 50 KiB). moto creates what it can in one call and fails the whole call when a
 * resource refers to an attribute of a type it has no model for; each such type is left out
 * (with whatever depends on it) and the stack created again under a new name, so that the rows
 * say exactly which resources moto created and which it cannot emulate.
 */
export async function rehearseOnMoto(moto: Moto, synth: Synthesized): Promise<Rehearsal> {
  await bootstrap(moto);
  await ensureParameters(moto, synth.template);
  const templateKey = await publishAssets(moto, synth);
  const left = new Map<string, string>(); // logical id → why (its type, or what it needs)
  for (let attempt = 1; ; attempt++) {
    const stackName = `Ditserve${String(attempt)}`;
    const template = structuredClone(synth.template);
    template.Resources = Object.fromEntries(
      Object.entries(template.Resources).filter(([id]) => !left.has(id)),
    );
    template.Outputs = Object.fromEntries(
      Object.entries(template.Outputs ?? {}).filter(
        ([, o]) => ![...referencesIn(o)].some((id) => left.has(id)),
      ),
    );
    motoNamingWorkaround(template, stackName);
    const key = `${templateKey}.${String(attempt)}.json`;
    await moto.s3.send(
      new PutObjectCommand({ Bucket: ASSETS_BUCKET, Key: key, Body: JSON.stringify(template) }),
    );
    try {
      await cloudFormation(moto.endpoint, 'CreateStack', {
        StackName: stackName,
        TemplateURL: `https://s3.${REGION}.amazonaws.com/${ASSETS_BUCKET}/${key}`,
        'Capabilities.member.1': 'CAPABILITY_IAM',
        'Capabilities.member.2': 'CAPABILITY_NAMED_IAM',
      });
    } catch (error) {
      const missing = /references undefined resource (\w+)/.exec(String(error))?.[1];
      const type = missing ? synth.template.Resources[missing]?.Type : undefined;
      if (!type || attempt > 20) throw error;
      for (const [id, r] of Object.entries(synth.template.Resources))
        if (r.Type === type) left.set(id, type);
      withDependents(synth.template, left);
      continue;
    }
    return describe(moto, synth.template, stackName, left);
  }
}

async function describe(
  moto: Moto,
  original: CfnTemplate,
  stackName: string,
  left: Map<string, string>,
): Promise<Rehearsal> {
  const stacks = await cloudFormation(moto.endpoint, 'DescribeStacks', { StackName: stackName });
  const listed: Record<string, string>[] = [];
  let next: string | undefined;
  do {
    const page = await cloudFormation(moto.endpoint, 'ListStackResources', {
      StackName: stackName,
      ...(next ? { NextToken: next } : {}),
    });
    listed.push(...members(page).filter((m) => m.LogicalResourceId));
    next = tagText(page, 'NextToken');
  } while (next);
  const byId = new Map(listed.map((m) => [m.LogicalResourceId ?? '', m]));
  const physical = new Map<string, string>();
  const rows = Object.entries(original.Resources).map(([logicalId, r]): ResourceRow => {
    const m = byId.get(logicalId);
    if (m) {
      physical.set(logicalId, m.PhysicalResourceId ?? '');
      const custom =
        r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource';
      return {
        logicalId,
        type: r.Type,
        outcome: custom ? 'recorded, not run' : 'created',
        physicalId: m.PhysicalResourceId,
        note: custom ? 'its provider Lambda is never invoked' : m.ResourceStatus,
      };
    }
    const why = left.get(logicalId);
    if (why && why !== r.Type)
      return { logicalId, type: r.Type, outcome: 'depends on one not emulated', note: why };
    return { logicalId, type: r.Type, outcome: 'type not emulated' };
  });
  return {
    stackName,
    stackStatus: tagText(stacks, 'StackStatus') ?? 'unknown',
    rows,
    physical,
  };
}

/** The rows as a fixed-width table for the test output. */
export function formatTable(rows: readonly ResourceRow[]): string {
  const cols: [string, (r: ResourceRow) => string][] = [
    ['outcome', (r) => r.outcome],
    ['type', (r) => r.type],
    ['logical id', (r) => r.logicalId],
    ['physical id / why', (r) => (r.outcome === 'created' ? (r.physicalId ?? '') : (r.note ?? ''))],
  ];
  const order: Outcome[] = [
    'created',
    'recorded, not run',
    'type not emulated',
    'depends on one not emulated',
  ];
  const sorted = [...rows].sort(
    (a, b) =>
      order.indexOf(a.outcome) - order.indexOf(b.outcome) ||
      a.type.localeCompare(b.type) ||
      a.logicalId.localeCompare(b.logicalId),
  );
  const widths = cols.map(([h, f]) =>
    Math.min(70, Math.max(h.length, ...sorted.map((r) => f(r).length))),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join(' | ');
  return [
    line(cols.map(([h]) => h)),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...sorted.map((r) => line(cols.map(([, f]) => f(r)))),
  ].join('\n');
}

/**
 * A template value with its references replaced by what moto created: Ref of a queue is its URL,
 * of a bucket its name (CloudFormation's Ref semantics), Fn::Join joined, pseudo parameters
 * moto's. Anything else throws, so a new kind of reference in an environment is noticed.
 */
export function resolveValue(
  value: unknown,
  physical: ReadonlyMap<string, string>,
  template: CfnTemplate,
): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const resolved = pseudo[v.Ref] ?? physical.get(v.Ref);
    if (resolved === undefined) throw new Error(`Ref ${v.Ref}: not created on moto`);
    return resolved;
  }
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveValue(p, physical, template)).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    const phys = physical.get(id);
    const type = template.Resources[id]?.Type;
    if (phys && type === 'AWS::SQS::Queue' && attribute === 'Arn')
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${phys.split('/').at(-1) ?? ''}`;
    if (phys && type === 'AWS::S3::Bucket' && attribute === 'Arn') return `arn:aws:s3:::${phys}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** A Lambda function's `Environment.Variables`, resolved against moto's resources. */
export function lambdaEnvironment(
  synth: Synthesized,
  logicalId: string,
  physical: ReadonlyMap<string, string>,
): Record<string, string> {
  const vars = (
    synth.template.Resources[logicalId]?.Properties?.Environment as
      { Variables?: Record<string, unknown> } | undefined
  )?.Variables;
  if (!vars) throw new Error(`${logicalId} has no environment`);
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, resolveValue(v, physical, synth.template)]),
  );
}

/** The ECS task definition's container environment (one container), resolved likewise. */
export function taskEnvironment(
  synth: Synthesized,
  logicalId: string,
  physical: ReadonlyMap<string, string>,
): Record<string, string> {
  const containers = synth.template.Resources[logicalId]?.Properties?.ContainerDefinitions as
    { Environment?: { Name: string; Value: unknown }[] }[] | undefined;
  if (containers?.length !== 1) throw new Error(`${logicalId}: expected one container`);
  return Object.fromEntries(
    (containers[0]?.Environment ?? []).map((e) => [
      e.Name,
      resolveValue(e.Value, physical, synth.template),
    ]),
  );
}
