import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { LoadReport } from './load-run.ts';

/**
 * What a load run must hold, and its summary: printed as one JSON line, and written to
 * `$SECURITY_REPORT_DIR/{name}.json` when that is set (the figures in docs/reliability.md).
 */
export async function expectHeld(name: string, report: LoadReport): Promise<void> {
  console.log(`[security] ${name} summary: ${JSON.stringify(report)}`);
  const dir = process.env.SECURITY_REPORT_DIR;
  if (dir) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.json`), JSON.stringify(report, null, 2));
  }
  expect(report.status5xx).toBe(0);
  expect(report.networkErrors).toEqual([]);
  // The flood must have met the limit, or the Retry-After check says nothing.
  expect(report.rateLimited).toBeGreaterThan(0);
  expect(report.rateLimitedWithoutRetryAfter).toBe(0);
  expect(report.clientErrorsNotProblemJson).toEqual([]);
  expect(report.jobs.lost).toEqual([]);
  expect(report.jobs.stuck).toEqual([]);
  expect(report.jobs.succeeded).toBeGreaterThan(0);
  expect(report.secretsInLogs).toEqual([]);
}
