/**
 * Cleanups that run when the current test file ends, wherever they were registered. vitest
 * ignores an afterAll() registered inside beforeAll() or a test, which is where helpers such as
 * tempDir() and motoForThisFile() are usually called: they register here instead, and
 * tests/setup/file-cleanup.ts runs the list from a file-level afterAll (vitest.config.ts).
 */
const pending: (() => unknown)[] = [];

export function atFileEnd(cleanup: () => unknown): void {
  pending.push(cleanup);
}

/** Last registered first (a stack started on a moto_server stops before the moto_server). */
export async function runFileCleanups(): Promise<void> {
  const errors: unknown[] = [];
  for (let cleanup = pending.pop(); cleanup; cleanup = pending.pop()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'file cleanup failed');
}
