import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { awsBackend } from '../../core/backend/aws.ts';
import type { Backend } from '../../core/backend/types.ts';
import { freePort, startMoto, type Moto } from '../helpers/moto.ts';
import { startLambda, type LambdaProcess } from './lambda-host.ts';
import {
  ACCOUNT,
  lambdaEnvironment,
  REGION,
  rehearseOnMoto,
  taskEnvironment,
  type Rehearsal,
} from './rehearsal.ts';
import { synthesizeWithBundles, type Synthesized } from './synth.ts';
import { buildWorkerImage, runWorker, type WorkerImage } from './worker-container.ts';

export type Entry = 'api' | 'dispatcher' | 'sweeper';

const FUNCTION_PREFIX: Record<Entry, string> = {
  api: 'ApiFunction',
  dispatcher: 'WebhookDispatcherFunction',
  sweeper: 'SweeperFunction',
};

/** Where Lambda unpacks the code, as the template's paths name it. */
const LAMBDA_TASK_ROOT = '/var/task';

export interface Deployment {
  readonly moto: Moto;
  readonly synth: Synthesized;
  readonly rehearsal: Rehearsal;
  /** The ports over the moto resources the stack created (for setup and checks only). */
  readonly backend: Backend;
  readonly bucket: string;
  readonly jobsQueueUrl: string;
  readonly outboxQueueUrl: string;
  /** A function's template environment, references resolved to moto's resources. */
  templateEnv(entry: Entry): Record<string, string>;
  /** The worker task definition's environment, resolved likewise. */
  taskEnv(): Record<string, string>;
  /**
   * The process environment Lambda would give the function: the template's variables (the task
   * root's path mapped to the unpacked bundle) plus what the Lambda runtime itself sets and the
   * credentials, with AWS_ENDPOINT_URL pointing the SDK at moto.
   */
  lambdaProcessEnv(entry: Entry, templateEnv?: Record<string, string>): Record<string, string>;
  startFunction(entry: Entry, templateEnv?: Record<string, string>): Promise<LambdaProcess>;
  /** The bundled worker as its container runs it (built once, on first use). */
  workerImage(): WorkerImage;
  workerProcessEnv(taskEnv?: Record<string, string>, healthPort?: number): Record<string, string>;
  /** Remembers something to end in {@link stop} (a started worker). */
  onStop(stop: () => Promise<unknown>): void;
  /**
   * Ends every function and worker started through it, then moto, and deletes the folders. Call
   * it from the test file's afterAll: vitest ignores an afterAll registered inside a hook.
   */
  stop(): Promise<void>;
}

/** Only what reaches AWS: the endpoint (moto) and the credentials Lambda/ECS would provide. */
export function awsAccess(moto: Moto): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
  };
}

/** A value with each comma-separated path under `root` moved under `local` (model folder lists). */
function rebase(value: string, root: string, local: string): string {
  return value
    .split(',')
    .map((part) => (part.startsWith(`${root}/`) ? local + part.slice(root.length) : part))
    .join(',');
}

/** Node needs a PATH and HOME to find nothing in particular; Lambda and ECS set both. */
const basics = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', TZ: 'UTC' });

/** Synthesizes (with bundles), rehearses on a fresh moto_server and wires the entries to it. */
export async function rehearsedDeployment(): Promise<Deployment> {
  const moto = await startMoto();
  const synth = await synthesizeWithBundles().catch(async (error: unknown) => {
    await moto.stop();
    throw error;
  });
  const imageDir = await mkdtemp(join(tmpdir(), 'ditserve-deploy-image-'));
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    await Promise.allSettled(stoppers.splice(0).map((s) => s()));
    await moto.stop();
    await Promise.all([synth.remove(), rm(imageDir, { recursive: true, force: true })]);
  };
  try {
    return await wire(moto, synth, imageDir, stoppers, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function wire(
  moto: Moto,
  synth: Synthesized,
  imageDir: string,
  stoppers: (() => Promise<unknown>)[],
  stop: () => Promise<void>,
): Promise<Deployment> {
  const rehearsal = await rehearseOnMoto(moto, synth);
  const physical = (type: string, prefix: string) => {
    const id = synth.logicalId(type, prefix);
    const value = rehearsal.physical.get(id);
    if (!value) throw new Error(`moto did not create ${id}`);
    return value;
  };
  const bucket = physical('AWS::S3::Bucket', 'StorageBucket');
  const jobsQueueUrl = physical('AWS::SQS::Queue', 'JobsQueue');
  const outboxQueueUrl = physical('AWS::SQS::Queue', 'WebhookOutboxQueue');
  const backend = awsBackend({
    s3: moto.s3,
    sqs: moto.sqs,
    bucket,
    jobsQueueUrl,
    webhookQueueUrl: outboxQueueUrl,
  });
  let image: WorkerImage | undefined;
  const fnId = (entry: Entry) => synth.logicalId('AWS::Lambda::Function', FUNCTION_PREFIX[entry]);
  const deployment: Deployment = {
    moto,
    synth,
    rehearsal,
    backend,
    bucket,
    jobsQueueUrl,
    outboxQueueUrl,
    templateEnv: (entry) => lambdaEnvironment(synth, fnId(entry), rehearsal.physical),
    taskEnv: () =>
      taskEnvironment(
        synth,
        synth.logicalId('AWS::ECS::TaskDefinition', 'WorkerTask'),
        rehearsal.physical,
      ),
    lambdaProcessEnv(entry, templateEnv = deployment.templateEnv(entry)) {
      const id = fnId(entry);
      const taskRoot = synth.lambdaCode(id);
      const props = synth.template.Resources[id]?.Properties ?? {};
      const mapped = Object.fromEntries(
        Object.entries(templateEnv).map(([k, v]) => [k, rebase(v, LAMBDA_TASK_ROOT, taskRoot)]),
      );
      return {
        ...basics(),
        ...mapped,
        LAMBDA_TASK_ROOT: taskRoot,
        _HANDLER: String(props.Handler),
        AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime)}`,
        AWS_LAMBDA_FUNCTION_NAME: rehearsal.physical.get(id) ?? id,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize),
        ...awsAccess(moto),
      };
    },
    async startFunction(entry, templateEnv) {
      const id = fnId(entry);
      const lambda = await startLambda({
        taskRoot: synth.lambdaCode(id),
        handler: String(synth.template.Resources[id]?.Properties?.Handler),
        env: deployment.lambdaProcessEnv(entry, templateEnv),
        timeoutMs: Number(synth.template.Resources[id]?.Properties?.Timeout) * 1000,
      });
      stoppers.push(() => lambda.stop());
      return lambda;
    },
    onStop(s) {
      stoppers.push(s);
    },
    stop,
    workerImage() {
      image ??= buildWorkerImage(imageDir);
      return image;
    },
    workerProcessEnv(taskEnv = deployment.taskEnv(), healthPort) {
      const img = deployment.workerImage();
      const container = { ...img.imageEnv, ...taskEnv };
      const mapped = Object.fromEntries(
        Object.entries(container).map(([k, v]) => [k, rebase(v, img.workdir, img.appDir)]),
      );
      return {
        ...basics(),
        ...mapped,
        // This machine has no GPU; everything else is the task definition's.
        DITSERVE_DEVICE: 'cpu',
        ...(healthPort !== undefined ? { DITSERVE_HEALTH_PORT: String(healthPort) } : {}),
        ...awsAccess(moto),
      };
    },
  };
  return deployment;
}

export interface RunningWorker {
  readonly child: ChildProcess;
  readonly healthPort: number;
  readonly output: string[];
  /** Polls /healthz until the worker reports `ready` (model loaded, polling the queue). */
  ready(timeoutMs?: number): Promise<{ state: string }>;
  stop(): Promise<number | null>;
}

/** Starts the worker bundle with the task definition's environment on a free health port. */
export async function startWorker(
  deployment: Deployment,
  taskEnv?: Record<string, string>,
): Promise<RunningWorker> {
  const healthPort = await freePort();
  const child = runWorker(
    deployment.workerImage(),
    deployment.workerProcessEnv(taskEnv, healthPort),
  );
  const output: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) =>
    output.push(l),
  );
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
    output.push(l),
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  deployment.onStop(stop);
  return {
    child,
    healthPort,
    output,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null)
          throw new Error(`worker exited ${String(child.exitCode)}:\n${output.join('\n')}`);
        try {
          const health = (await (
            await fetch(`http://127.0.0.1:${String(healthPort)}/healthz`)
          ).json()) as { state: string };
          if (health.state === 'ready' || health.state === 'busy') return health;
        } catch {
          // Not listening yet.
        }
        await delay(200);
      }
      throw new Error(`worker not ready within ${String(timeoutMs)} ms:\n${output.join('\n')}`);
    },
    stop,
  };
}

export { ACCOUNT };
