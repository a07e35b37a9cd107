import { afterAll, describe, expect, it } from 'vitest';
import { runEmbeddedScenario } from './embedded-scenario.ts';
import { failureMessage, publish, sizeFromEnv } from './harness.ts';
import { cleanupAll } from './processes.ts';

/** The long embedded run (npm run test:soak): 150 jobs, 10 worker kills, 3 serve restarts. */
describe('soak: the embedded default under kills', () => {
  // Child processes, moto and servers go even when the run failed or timed out.
  afterAll(cleanupAll);

  it('every accepted job ends terminal, once, with exactly one terminal webhook', async () => {
    const size = sizeFromEnv({
      jobs: 150,
      workerKills: 10,
      serverRestarts: 3,
      seed: 20_260_202,
      meanGapMs: 700,
    });
    const report = await runEmbeddedScenario(size, (m) => {
      process.stdout.write(`[reliability] embedded-crash: ${m}\n`);
    });
    await publish(report);
    expect(report.failures, failureMessage(report)).toEqual([]);
  });
});
