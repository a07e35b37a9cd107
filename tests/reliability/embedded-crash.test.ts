import { afterAll, describe, expect, it } from 'vitest';
import { runEmbeddedScenario } from './embedded-scenario.ts';
import { failureMessage, publish, sizeFromEnv } from './harness.ts';
import { cleanupAll } from './processes.ts';

/**
 * The short CI run of the embedded scenario (tests/reliability/embedded-scenario.ts): 30 jobs,
 * 3 worker kills, one `ditserve serve` kill + restart. `npm run test:soak` runs the long one.
 */
describe('no accepted job or webhook is lost: the embedded default under kills', () => {
  // Child processes, moto and servers go even when the run failed or timed out.
  afterAll(cleanupAll);

  it('every accepted job ends terminal, once, with exactly one terminal webhook', async () => {
    const size = sizeFromEnv({
      jobs: 30,
      workerKills: 3,
      serverRestarts: 1,
      seed: 20_260_102,
      meanGapMs: 700,
    });
    const report = await runEmbeddedScenario(size, (m) => {
      process.stdout.write(`[reliability] embedded-crash: ${m}\n`);
    });
    await publish(report);
    expect(report.failures, failureMessage(report)).toEqual([]);
  }, 300_000);
});
