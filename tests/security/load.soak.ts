/** The 60 s load run (npm run test:soak); the short one is load.test.ts. */
import { afterAll, describe, it } from 'vitest';
import { cleanupAll } from '../reliability/processes.ts';
import { expectHeld } from './load-checks.ts';
import { runLoad } from './load-run.ts';

afterAll(cleanupAll);

describe('load: 60 s of mixed traffic with the worker generating', () => {
  it('answers no 5xx, every 429 with Retry-After, every 4xx as problem+json; every job ends', async () => {
    const report = await runLoad(
      {
        seconds: Number(process.env.LOAD_SECONDS ?? '60'),
        clients: 8,
        seed: Number(process.env.LOAD_SEED ?? '20261202'),
      },
      (m) => {
        console.log(`[load] ${m}`);
      },
    );
    await expectHeld('load-soak', report);
  }, 600_000);
});
