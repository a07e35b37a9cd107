import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:soak`: the long reliability and load runs (tests/reliability/*.soak.ts,
 * tests/security/*.soak.ts), which the default config's `tests/**\/*.test.ts` never picks up.
 * One file at a time: each one spawns its own moto_server / serve and worker processes, and the
 * machine has few cores.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/reliability/*.soak.ts', 'tests/security/*.soak.ts'],
    setupFiles: ['tests/setup/file-cleanup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60 * 60_000,
    hookTimeout: 120_000,
  },
});
