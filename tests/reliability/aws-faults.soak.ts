import { afterAll, describe, expect, it } from 'vitest';
import { runAwsScenario } from './aws-scenario.ts';
import { failureMessage, publish, sizeFromEnv } from './harness.ts';
import { cleanupAll } from './processes.ts';

/** The long AWS run (npm run test:soak): 150 jobs, 12 worker kills, 3 API restarts. */
describe('soak: AWS adapters under faults and kills', () => {
  // Child processes, moto and servers go even when the run failed or timed out.
  afterAll(cleanupAll);

  it('every accepted job ends terminal, once, with exactly one terminal webhook', async () => {
    const size = sizeFromEnv({
      jobs: 150,
      workerKills: 12,
      serverRestarts: 3,
      seed: 20_260_201,
      meanGapMs: 700,
    });
    const report = await runAwsScenario(size, (m) => {
      process.stdout.write(`[reliability] aws-faults: ${m}\n`);
    });
    await publish(report);
    expect(report.failures, failureMessage(report)).toEqual([]);
  });
});
