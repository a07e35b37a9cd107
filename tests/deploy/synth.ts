import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { DitserveStack } from '../../infra/stack.ts';
import { cdkJsonContext } from '../infra/helpers.ts';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
  [key: string]: unknown;
}

interface AssetManifest {
  files: Record<
    string,
    {
      source: { path: string; packaging?: 'zip' | 'file' };
      destinations: Record<string, { bucketName: string; objectKey: string }>;
    }
  >;
}

export interface Synthesized {
  /** The cloud assembly folder (what `cdk synth` writes to cdk.out). */
  readonly dir: string;
  readonly template: CfnTemplate;
  readonly assets: AssetManifest;
  /** The bundled code folder of a Lambda function (its `Code.S3Key` asset), i.e. its /var/task. */
  lambdaCode(logicalId: string): string;
  /** The one resource of `type` whose logical id starts with `prefix`. */
  logicalId(type: string, prefix: string): string;
  /** Deletes the assembly folder (call it from the file's afterAll). */
  remove(): Promise<void>;
}

/**
 * The stack synthesized the way `cdk synth` does it, Lambda bundling included: the functions'
 * code comes from NodejsFunction's own esbuild run with `lambdaBundling()`, so what the tests load
 * is the file the stack deploys. Once per test file, into a temporary folder (a few seconds). The caller removes it: vitest ignores an afterAll registered inside a
 * hook, so helpers called from beforeAll cannot clean up after themselves.
 */
export async function synthesizeWithBundles(): Promise<Synthesized> {
  const dir = await mkdtemp(join(tmpdir(), 'ditserve-deploy-synth-'));
  const app = new App({ outdir: dir, context: cdkJsonContext() });
  const stack = new DitserveStack(app, 'Ditserve', {});
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = JSON.parse(
    readFileSync(join(dir, artifact.templateFile), 'utf8'),
  ) as CfnTemplate;
  const assets = JSON.parse(
    readFileSync(join(dir, `${stack.stackName}.assets.json`), 'utf8'),
  ) as AssetManifest;
  const logicalId = (type: string, prefix: string): string => {
    const ids = Object.entries(template.Resources)
      .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
      .map(([id]) => id);
    if (ids.length !== 1) throw new Error(`${String(ids.length)} ${type} named ${prefix}…`);
    return ids[0] ?? '';
  };
  return {
    dir,
    template,
    assets,
    logicalId,
    remove: () => rm(dir, { recursive: true, force: true }),
    lambdaCode(id) {
      const code = template.Resources[id]?.Properties?.Code as { S3Key?: string } | undefined;
      const hash = code?.S3Key?.replace(/\.zip$/, '');
      const asset = hash ? assets.files[hash] : undefined;
      if (!asset) throw new Error(`${id} has no file asset`);
      return join(dir, asset.source.path);
    },
  };
}
