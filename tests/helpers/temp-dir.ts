import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atFileEnd } from './file-cleanup.ts';

/** A fresh temporary folder, removed after the test file finishes. */
export async function tempDir(prefix = 'ditserve-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  atFileEnd(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
