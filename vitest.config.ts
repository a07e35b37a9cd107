import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup/file-cleanup.ts'],
    // onnxruntime-node is a native addon: separate processes keep each file's sessions apart.
    pool: 'forks',
    // Creating sessions and spawning the CLI (tsx) takes a few seconds on a small CI machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
