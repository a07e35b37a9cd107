import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type Moto } from '../helpers/moto.ts';
import { ssm } from './moto-api.ts';
import {
  ASSETS_BUCKET,
  BOOTSTRAP_VERSION_PARAMETER,
  formatTable,
  lambdaEnvironment,
  rehearseOnMoto,
  type Rehearsal,
} from './rehearsal.ts';
import { synthesizeWithBundles, type Synthesized } from './synth.ts';

/** A moto Lambda function's configuration (REST JSON API, routed by the credential scope). */
async function lambdaConfig(moto: Moto, name: string) {
  const response = await fetch(`${moto.endpoint}/2015-03-31/functions/${name}`, {
    headers: {
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0',
    },
  });
  expect(response.status, name).toBe(200);
  return (
    (await response.json()) as {
      Configuration: {
        Runtime: string;
        Handler: string;
        Architectures?: string[];
        Environment?: { Variables?: Record<string, string> };
      };
    }
  ).Configuration;
}

describe('CloudFormation rehearsal: the synthesized template created on moto_server', () => {
  let moto: Moto;
  let synth: Synthesized;
  let run: Rehearsal;
  const row = (id: string) => run.rows.find((r) => r.logicalId === id);
  const created = (type: string) =>
    run.rows.filter((r) => r.type === type && r.outcome === 'created');

  beforeAll(async () => {
    moto = await startMoto();
    synth = await synthesizeWithBundles();
    run = await rehearseOnMoto(moto, synth);
    const counts = new Map<string, number>();
    for (const r of run.rows) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    console.log(
      `moto rehearsal of ${String(run.rows.length)} resources, stack ${run.stackName} ${run.stackStatus}: ${[
        ...counts,
      ]
        .map(([k, v]) => `${String(v)} ${k}`)
        .join(', ')}\n${formatTable(run.rows)}`,
    );
  }, 120_000);

  afterAll(async () => {
    await moto.stop();
    await synth.remove();
  });

  it('bootstrap resources and published assets are where the template looks for them', async () => {
    await moto.s3.send(new HeadBucketCommand({ Bucket: ASSETS_BUCKET }));
    const version = (await ssm(moto.endpoint, 'GetParameter', {
      Name: BOOTSTRAP_VERSION_PARAMETER,
    })) as { Parameter: { Value: string } };
    expect(Number(version.Parameter.Value)).toBeGreaterThanOrEqual(6);
    // The GPU AMI the launch template resolves at deploy time.
    const amiParameters = Object.values(synth.template.Parameters ?? {}).filter((p) =>
      p.Type.includes('AWS::EC2::Image::Id'),
    );
    expect(amiParameters).toHaveLength(1);
    const ami = (await ssm(moto.endpoint, 'GetParameter', {
      Name: amiParameters[0]?.Default,
    })) as { Parameter: { Value: string } };
    expect(ami.Parameter.Value).toMatch(/^ami-[0-9a-f]+$/);
    const apiId = synth.logicalId('AWS::Lambda::Function', 'ApiFunction');
    const key = (synth.template.Resources[apiId]?.Properties?.Code as { S3Key: string }).S3Key;
    const zip = await moto.s3.send(new GetObjectCommand({ Bucket: ASSETS_BUCKET, Key: key }));
    const bytes = Buffer.from((await zip.Body?.transformToByteArray()) ?? new Uint8Array());
    // A zip archive ("PK\3\4") holding the bundle.
    expect([...bytes.subarray(0, 4)]).toEqual([0x50, 0x4b, 3, 4]);
    expect(bytes.includes('index.mjs')).toBe(true);
  });

  it('moto created the bucket, the queues with their dead-letter redrive, the functions and roles', async () => {
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::Logs::LogGroup',
      'AWS::Lambda::EventSourceMapping',
      'AWS::Events::Rule',
      'AWS::ECS::TaskDefinition',
      'AWS::ApiGateway::RestApi',
    ]) {
      const inTemplate = Object.values(synth.template.Resources).filter((r) => r.Type === type);
      expect(created(type).length, type).toBe(inTemplate.length);
    }
    const bucket = run.physical.get(synth.logicalId('AWS::S3::Bucket', 'StorageBucket'));
    await moto.s3.send(new HeadBucketCommand({ Bucket: bucket }));

    const jobs = run.physical.get(synth.logicalId('AWS::SQS::Queue', 'JobsQueue')) ?? '';
    const dlq = run.physical.get(synth.logicalId('AWS::SQS::Queue', 'JobsDeadLetter')) ?? '';
    const attributes = (
      await moto.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: jobs, AttributeNames: ['All'] }),
      )
    ).Attributes;
    expect(attributes?.VisibilityTimeout).toBe('120');
    const redrive = JSON.parse(attributes?.RedrivePolicy ?? '{}') as {
      maxReceiveCount: number;
      deadLetterTargetArn: string;
    };
    expect(redrive.maxReceiveCount).toBe(5);
    expect(redrive.deadLetterTargetArn.endsWith(`:${dlq.split('/').at(-1) ?? '?'}`)).toBe(true);
  });

  it('each ditserve function exists with the template’s runtime, handler and environment', async () => {
    for (const prefix of ['ApiFunction', 'WebhookDispatcherFunction', 'SweeperFunction']) {
      const id = synth.logicalId('AWS::Lambda::Function', prefix);
      const config = await lambdaConfig(moto, run.physical.get(id) ?? '');
      expect(config.Runtime, prefix).toBe('nodejs22.x');
      expect(config.Handler, prefix).toBe('index.handler');
      // moto resolved the references itself; they name the resources it created.
      expect(config.Environment?.Variables, prefix).toEqual(
        lambdaEnvironment(synth, id, run.physical),
      );
    }
  });

  it('reports what moto cannot emulate, and nothing the application depends on is among it', () => {
    const notCreated = run.rows.filter((r) => r.outcome !== 'created');
    // The custom resource is recorded; its provider Lambda (default security group lockdown) never runs.
    expect(
      row(synth.logicalId('Custom::VpcRestrictDefaultSG', 'VpcRestrictDefaultSecurityGroup'))
        ?.outcome,
    ).toBe('recorded, not run');
    // Alarms, the dashboard, queue/bucket/topic policies, capacity providers and autoscaling are
    // the known gaps (docs/deploy.md); none of the data path is.
    const dataPath = new Set(['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::Lambda::Function']);
    expect(notCreated.filter((r) => dataPath.has(r.type))).toEqual([]);
    expect(notCreated.map((r) => r.type)).toEqual(
      expect.arrayContaining(['AWS::CloudWatch::Alarm', 'AWS::SQS::QueuePolicy']),
    );
  });
});
