/**
 * The short load run (part of npm test): ~12 s of mixed traffic against the embedded stack with
 * its worker generating (tests/security/load-run.ts). The 60 s run is load.soak.ts
 * (npm run test:soak). Latencies and RSS are reported, never asserted.
 */
import { afterAll, describe, it } from 'vitest';
import { cleanupAll } from '../reliability/processes.ts';
import { expectHeld } from './load-checks.ts';
import { runLoad } from './load-run.ts';

afterAll(cleanupAll);

describe('load: short mixed traffic with the worker generating', () => {
  it('answers no 5xx, every 429 with Retry-After, every 4xx as problem+json; every job ends', async () => {
    const report = await runLoad(
      {
        seconds: Number(process.env.LOAD_SECONDS ?? '12'),
        clients: 6,
        seed: Number(process.env.LOAD_SEED ?? '20261201'),
      },
      (m) => {
        console.log(`[load] ${m}`);
      },
    );
    await expectHeld('load-short', report);
  }, 180_000);
});
