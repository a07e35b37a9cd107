import type { JobPage, JobRecord, ListOptions } from '../ports/job-store.ts';

export const MAX_PAGE = 100;

/** Newest first: createdAt descending, then id descending, a total order every adapter shares. */
export function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

/** The sort position of a job as an opaque cursor: jobs strictly after it come next. */
export function cursorOf(job: JobRecord): string {
  return Buffer.from(JSON.stringify([job.createdAt, job.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      typeof value[1] === 'string'
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // fall through: a cursor we did not write starts from the top
  }
  return undefined;
}

/** Sorts, skips past the cursor and cuts one page from jobs already filtered by tenant/status. */
export function pageOf<D>(jobs: JobRecord<D>[], options: ListOptions): JobPage<D> {
  const limit = Math.max(1, Math.min(options.limit ?? 20, MAX_PAGE));
  const sorted = [...jobs].sort(newestFirst);
  const after: [string, string] | undefined = options.after
    ? [options.after.createdAt, options.after.id]
    : options.cursor
      ? decodeCursor(options.cursor)
      : undefined;
  const rest = after
    ? sorted.filter((j) => j.createdAt < after[0] || (j.createdAt === after[0] && j.id < after[1]))
    : sorted;
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return {
    jobs: page,
    nextCursor: rest.length > limit && last ? cursorOf(last) : undefined,
  };
}
