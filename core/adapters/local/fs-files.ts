import { randomBytes } from 'node:crypto';
import {
  access,
  constants,
  link,
  mkdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDitserveError } from '../../errors.ts';
import { StoreUnavailableError } from '../../ports/job-store.ts';

/** errno codes that mean the folder cannot be used right now, not that the caller erred. */
const UNAVAILABLE = new Set([
  'ENOTDIR',
  'EACCES',
  'EPERM',
  'ENOSPC',
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EBUSY',
  'EDQUOT',
]);

export function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Translates a filesystem failure into StoreUnavailableError at the adapter boundary. */
export function storeError(error: unknown): unknown {
  if (isDitserveError(error)) return error;
  const code = errnoOf(error);
  return code && UNAVAILABLE.has(code)
    ? new StoreUnavailableError(`the data folder is unusable (${code})`, { cause: error })
    : error;
}

/** Runs `body`, translating filesystem failures (see storeError). */
export async function atBoundary<R>(body: () => Promise<R>): Promise<R> {
  try {
    return await body();
  } catch (error) {
    throw storeError(error);
  }
}

/**
 * A path segment we accept from ids, tenants and key hashes: no separators, no dot-files, so a
 * crafted id can never leave its folder.
 */
export function isSafeSegment(segment: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/.test(segment);
}

/** A temporary sibling name in the same folder, so rename/link never cross filesystems. */
function tempPath(path: string): string {
  return join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
}

/** Writes the whole file or nothing: readers see the old content or the new, never a torn one. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * Creates `path` with `data` unless it exists, atomically even across processes: link() of a
 * complete temp file fails with EEXIST instead of replacing. Returns false when it existed.
 */
export async function createFileExclusive(path: string, data: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  await writeFile(temp, data);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The parsed JSON in `path`, or undefined when there is no such file. */
export async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** ping() of every filesystem adapter: the folder exists (or can be made) and is writable. */
export async function checkFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true }).catch((error: unknown) => {
    if (errnoOf(error) !== 'EEXIST') throw error;
  });
  if (!(await stat(path)).isDirectory()) {
    throw new StoreUnavailableError(`${path} is not a folder`);
  }
  await access(path, constants.R_OK | constants.W_OK);
}
