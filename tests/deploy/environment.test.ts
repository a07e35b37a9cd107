import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../core/settings.ts';
import { rehearsedDeployment, startWorker, type Deployment, type Entry } from './deployment.ts';
import { bodyText } from './lambda-host.ts';
import { restEvent, scheduledEvent } from './rest-events.ts';

const KNOWN: ReadonlySet<string> = new Set(Object.values(SETTINGS).map((s) => s.env));
/** The settings table's word on who reads a variable (docs/settings.md). */
const readBy = (name: string) => Object.values(SETTINGS).find((s) => s.env === name)?.readBy ?? [];

/**
 * Read by the AWS SDK or Node, not by our settings table: NODE_OPTIONS is Node's own; the
 * runtime variables Lambda adds and the AWS access ones are not in the template.
 */
const NOT_OURS = new Set(['NODE_OPTIONS']);

/** What the Lambda runtime sets for every function, and the way to moto: never the template's. */
const RUNTIME = new Set([
  'PATH',
  'HOME',
  'TZ',
  'LAMBDA_TASK_ROOT',
  '_HANDLER',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
]);

/** One invocation that needs the whole init: the entry is ready when it answers it. */
async function readyProbe(
  d: Deployment,
  entry: Entry,
  lambda: Awaited<ReturnType<Deployment['startFunction']>>,
) {
  if (entry === 'api') {
    const response = await lambda.invokeStreaming(restEvent({ method: 'GET', path: '/readyz' }));
    return { ok: response.prelude.statusCode === 200, detail: await bodyText(response) };
  }
  if (entry === 'dispatcher') {
    const result = (await lambda.invoke({ Records: [] })) as { batchItemFailures: unknown[] };
    return { ok: Array.isArray(result.batchItemFailures), detail: JSON.stringify(result) };
  }
  const rule = d.rehearsal.physical.get(d.synth.logicalId('AWS::Events::Rule', 'SweeperSchedule'));
  const summary = (await lambda.invoke(scheduledEvent(rule ?? 'rule'))) as { errors: number };
  return { ok: summary.errors === 0, detail: JSON.stringify(summary) };
}

describe('the template’s environments are what the code reads', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await rehearsedDeployment();
  }, 120_000);
  afterAll(async () => {
    await d.stop();
  });

  for (const entry of ['api', 'dispatcher', 'sweeper'] as const) {
    it(`${entry}: starts with exactly its synthesized environment, reaches ready, and reads every variable it is given`, async () => {
      const templateEnv = d.templateEnv(entry);
      for (const name of Object.keys(templateEnv)) {
        // Misnamed: a variable no setting declares.
        if (NOT_OURS.has(name)) continue;
        expect(KNOWN.has(name), `${entry}: ${name} is no setting`).toBe(true);
        expect(readBy(name), `${entry}: ${name} is not a Lambda setting`).toContain('lambda');
      }
      // Exactly the template's variables, values unchanged but for the code folder's path (in each
      // path of a comma-separated list).
      const processEnv = d.lambdaProcessEnv(entry);
      const fromTemplate = Object.fromEntries(
        Object.entries(processEnv).filter(([name]) => !RUNTIME.has(name)),
      );
      const taskRoot = processEnv.LAMBDA_TASK_ROOT ?? '?';
      expect(fromTemplate).toEqual(
        Object.fromEntries(
          Object.entries(templateEnv).map(([k, v]) => [
            k,
            v.replace(/(^|,)\/var\/task(?=\/)/g, `$1${taskRoot}`),
          ]),
        ),
      );
      const lambda = await d.startFunction(entry);
      const probe = await readyProbe(d, entry, lambda);
      expect(probe.ok, `${entry} not ready: ${probe.detail}\n${lambda.output.join('\n')}`).toBe(
        true,
      );
      const reads = new Set(await lambda.envReads());
      const unread = Object.keys(templateEnv).filter(
        (name) => !reads.has(name) && !NOT_OURS.has(name),
      );
      expect(unread, `${entry} is given variables it never reads`).toEqual([]);
      await lambda.stop();
    });
  }

  it('a required variable left out fails the init, naming it (the check above can fail)', async () => {
    const withoutBucket = Object.fromEntries(
      Object.entries(d.templateEnv('dispatcher')).filter(([name]) => name !== SETTINGS.bucket.env),
    );
    await expect(d.startFunction('dispatcher', withoutBucket)).rejects.toThrow(SETTINGS.bucket.env);
  });

  it('worker: dist/worker/main.mjs as the Dockerfile’s CMD runs it, with the task definition’s environment, reaches ready', async () => {
    const taskEnv = d.taskEnv();
    for (const name of Object.keys(taskEnv)) {
      expect(KNOWN.has(name), `${name} is no setting`).toBe(true);
      expect(readBy(name), `${name} is not a worker setting`).toContain('worker');
    }
    const image = d.workerImage();
    expect(image.cmd.at(-1)).toBe('dist/worker/main.mjs');
    // The container's environment is the image's ENV under the task definition's.
    const env = d.workerProcessEnv(taskEnv);
    expect(env.DITSERVE_BUCKET).toBe(d.bucket);
    expect(env.DITSERVE_JOBS_QUEUE_URL).toBe(d.jobsQueueUrl);
    // Exactly the container's variables: only the device differs (no GPU here), and /app is
    // the image folder on this machine. (startWorker also moves the health port to a free one,
    // so that test files running side by side never collide.)
    const container = { ...image.imageEnv, ...taskEnv };
    const differing = Object.keys(container).filter(
      (k) => env[k] !== container[k]?.replace(/(^|,)\/app(?=\/)/g, `$1${image.appDir}`),
    );
    expect(differing).toEqual([SETTINGS.device.env]);
    expect(Object.keys(env).filter((k) => !(k in container) && !RUNTIME.has(k))).toEqual([]);
    const worker = await startWorker(d, taskEnv);
    try {
      expect((await worker.ready()).state).toBe('ready');
      // Its starting → ready states are logged as the container's log driver would see them.
      const states = worker.output
        .map((l) => /"state":"(\w+)"/.exec(l)?.[1])
        .filter((s): s is string => s !== undefined);
      expect(states[0]).toBe('starting');
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
