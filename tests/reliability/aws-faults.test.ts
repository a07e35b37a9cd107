import { afterAll, describe, expect, it } from 'vitest';
import { runAwsScenario } from './aws-scenario.ts';
import { failureMessage, publish, sizeFromEnv } from './harness.ts';
import { cleanupAll } from './processes.ts';

/**
 * The short CI run of the AWS scenario (tests/reliability/aws-scenario.ts): 32 jobs, 4 worker
 * kills, one API restart, 15 % of S3/SQS calls failed. `npm run test:soak` runs the long one.
 */
describe('no accepted job or webhook is lost: AWS adapters under faults and kills', () => {
  // Child processes, moto and servers go even when the run failed or timed out.
  afterAll(cleanupAll);

  it('every accepted job ends terminal, once, with exactly one terminal webhook', async () => {
    const size = sizeFromEnv({
      jobs: 32,
      workerKills: 4,
      serverRestarts: 1,
      seed: 20_260_101,
      meanGapMs: 700,
    });
    const report = await runAwsScenario(size, (m) => {
      process.stdout.write(`[reliability] aws-faults: ${m}\n`);
    });
    await publish(report);
    expect(report.failures, failureMessage(report)).toEqual([]);
  }, 300_000);
});
