import type { JobPage, JobRecord } from '../ports/job-store.ts';

/**
 * Names of index entries (S3 objects, or empty files locally) whose ascending order is newest
 * first: `{13-digit inverted ms}-{inverted id}~`. Listing a tenant's index then reads jobs in
 * page order and stops when the page is full, whatever the tenant's history.
 */

/** 13 digits of milliseconds, inverted so that ascending listing order is newest first. */
const MAX_MS = 9_999_999_999_999;

/**
 * An id turned into a string whose ascending order is the id's descending order: bytes inverted
 * (hex of 255 − b), then '~', which sorts after every hex digit so that a longer id whose prefix
 * is a shorter one still comes first, as it does in descending order.
 */
function invertedId(id: string): string {
  const inverted = Buffer.from(Buffer.from(id, 'utf8').map((b) => 255 - b));
  return `${inverted.toString('hex')}~`;
}

export function indexNameOf(job: Pick<JobRecord, 'id' | 'createdAt'>): string {
  const ms = Date.parse(job.createdAt);
  if (!Number.isFinite(ms)) throw new RangeError(`job ${job.id} has no valid createdAt`);
  return `${String(MAX_MS - ms).padStart(13, '0')}-${invertedId(job.id)}`;
}

export function idOfIndexName(name: string): string | undefined {
  const hex = /^\d{13}-([0-9a-f]*)~$/.exec(name)?.[1];
  return hex === undefined
    ? undefined
    : Buffer.from(Buffer.from(hex, 'hex').map((b) => 255 - b)).toString('utf8');
}

/** An index name as an opaque page cursor: the next page starts after it. */
export function encodeIndexCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

export function decodeIndexCursor(cursor: string): string | undefined {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  return idOfIndexName(name) === undefined ? undefined : name;
}

/**
 * The page from up to `limit + 1` matches read in index order: the extra one only says that
 * more follow, and the cursor points after the last job returned.
 */
export function indexPage<D>(
  matches: readonly { readonly job: JobRecord<D>; readonly name: string }[],
  limit: number,
): JobPage<D> {
  const kept = matches.slice(0, limit);
  const last = kept.at(-1);
  return {
    jobs: kept.map((m) => m.job),
    nextCursor: matches.length > limit && last ? encodeIndexCursor(last.name) : undefined,
  };
}
