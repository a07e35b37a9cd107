import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  JobNotFoundError,
  VersionConflictError,
  type IdempotencyRecord,
  type JobPage,
  type JobRecord,
  type JobStore,
  type ListOptions,
  type UnfinishedPage,
} from '../../ports/job-store.ts';
import { decodeIndexCursor, idOfIndexName, indexNameOf, indexPage } from '../newest-first-index.ts';
import { MAX_PAGE } from '../page.ts';
import {
  atBoundary,
  checkFolder,
  createFileExclusive,
  errnoOf,
  isSafeSegment,
  readJson,
} from './fs-files.ts';

export interface FsJobStoreOptions {
  /** The data folder: jobs under `jobs/{tenant}/{jobId}/`, claims under `idempotency/{tenant}/`. */
  readonly root: string;
}

const REVISION = /^job\.(\d+)\.json$/;
const UNFINISHED_SEPARATOR = '~';

interface Latest {
  readonly revision: number;
  readonly job: JobRecord;
}

/**
 * JobStore in a local folder, safe for several processes on one host. Each write of a job is a
 * new revision file `jobs/{tenant}/{id}/job.{n}.json` created with link() (which never replaces):
 * the writer that creates revision n+1 after reading revision n wins, every other one gets
 * EEXIST and a VersionConflictError. The newest revision is the record; older ones are pruned.
 */
export class FsJobStore implements JobStore {
  readonly #root: string;

  constructor(options: FsJobStoreOptions) {
    this.#root = options.root;
  }

  create<D>(job: JobRecord<D>): Promise<void> {
    return atBoundary(async () => {
      const dir = this.#jobDir(job.tenant, job.id);
      if (!dir) throw new RangeError(`unsafe job id or tenant: ${job.tenant}/${job.id}`);
      // Both indexes before the job (as on S3): a stored job is always listed and swept.
      await Promise.all([
        createFileExclusive(this.#unfinishedPath(job.tenant, job.id), ''),
        createFileExclusive(join(this.#root, 'index', job.tenant, indexNameOf(job)), ''),
      ]);
      if (!(await createFileExclusive(join(dir, 'job.0.json'), JSON.stringify(job)))) {
        throw new VersionConflictError(`job ${job.id} already exists`);
      }
    });
  }

  get<D>(tenant: string, id: string): Promise<JobRecord<D>> {
    return atBoundary(async () => {
      const dir = this.#jobDir(tenant, id);
      const latest = dir && (await this.#latest(dir));
      if (!latest) throw new JobNotFoundError(`no job ${id}`);
      return latest.job as JobRecord<D>;
    });
  }

  put<D>(next: JobRecord<D>, expectedVersion: number): Promise<void> {
    return atBoundary(async () => {
      const dir = this.#jobDir(next.tenant, next.id);
      const latest = dir && (await this.#latest(dir));
      if (!dir || !latest) throw new JobNotFoundError(`no job ${next.id}`);
      const conflict = new VersionConflictError(
        `job ${next.id} is at version ${latest.job.version}, not ${expectedVersion}`,
      );
      if (latest.job.version !== expectedVersion || next.version <= expectedVersion) throw conflict;
      const mine = latest.revision + 1;
      if (!(await createFileExclusive(join(dir, `job.${mine}.json`), JSON.stringify(next)))) {
        throw conflict;
      }
      // Revision `mine` may have been free only because a faster writer already pruned it after
      // writing a later one; then this write is not the newest and must not claim success.
      const revisions = await this.#revisions(dir);
      if (revisions.some((r) => r > mine)) {
        await unlink(join(dir, `job.${mine}.json`)).catch(() => undefined);
        throw conflict;
      }
      await Promise.all(
        revisions
          .filter((r) => r < mine)
          .map((r) => unlink(join(dir, `job.${r}.json`)).catch(() => undefined)),
      );
    });
  }

  /**
   * Newest first through the tenant's index (`index/{tenant}/`, names sorting newest first):
   * only the jobs of the page are read, so listing costs the page, not the tenant's history.
   * A status filter reads on until the page is full.
   */
  list<D>(tenant: string, options: ListOptions = {}): Promise<JobPage<D>> {
    return atBoundary(async () => {
      if (!isSafeSegment(tenant)) return { jobs: [] };
      const limit = Math.max(1, Math.min(options.limit ?? 20, MAX_PAGE));
      const names = await readdir(join(this.#root, 'index', tenant)).catch((error: unknown) => {
        if (errnoOf(error) === 'ENOENT') return [];
        throw error;
      });
      const after = options.after
        ? indexNameOf(options.after)
        : options.cursor
          ? decodeIndexCursor(options.cursor)
          : undefined;
      const page: { job: JobRecord<D>; name: string }[] = [];
      for (const name of names.sort()) {
        if (after !== undefined && name <= after) continue;
        const id = idOfIndexName(name);
        const dir = id === undefined ? undefined : this.#jobDir(tenant, id);
        const latest = dir && (await this.#latest(dir));
        if (latest && (!options.status || latest.job.status === options.status)) {
          page.push({ job: latest.job as JobRecord<D>, name });
          if (page.length > limit) break;
        }
      }
      return indexPage(page, limit);
    });
  }

  claimIdempotencyKey(
    tenant: string,
    record: IdempotencyRecord,
  ): Promise<IdempotencyRecord | undefined> {
    return atBoundary(async () => {
      if (!isSafeSegment(tenant) || !isSafeSegment(record.keyHash)) {
        throw new RangeError(`unsafe tenant or key hash: ${tenant}/${record.keyHash}`);
      }
      const path = join(this.#root, 'idempotency', tenant, `${record.keyHash}.json`);
      if (await createFileExclusive(path, JSON.stringify(record))) return undefined;
      return (await readJson(path)) as IdempotencyRecord;
    });
  }

  listUnfinished(options: { limit?: number; cursor?: string } = {}): Promise<UnfinishedPage> {
    return atBoundary(async () => {
      const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
      const names = await readdir(join(this.#root, 'unfinished')).catch((error: unknown) => {
        if (errnoOf(error) === 'ENOENT') return [];
        throw error;
      });
      const after = options.cursor;
      const rest = names
        .filter((n) => !n.startsWith('.') && (after === undefined || n > after))
        .sort();
      const page = rest.slice(0, limit);
      const refs = (
        await Promise.all(
          page.map(async (name) => {
            const [tenant, id] = name.split(UNFINISHED_SEPARATOR);
            const since = await stat(join(this.#root, 'unfinished', name)).then(
              (s) => s.mtime.toISOString(),
              () => undefined,
            );
            return tenant && id && since ? [{ tenant, id, since }] : [];
          }),
        )
      ).flat();
      return { refs, nextCursor: rest.length > limit ? page.at(-1) : undefined };
    });
  }

  dropUnfinished(tenant: string, id: string): Promise<void> {
    return atBoundary(async () => {
      if (!isSafeSegment(tenant) || !isSafeSegment(id)) return;
      await rm(this.#unfinishedPath(tenant, id), { force: true });
    });
  }

  isUnfinished(tenant: string, id: string): Promise<boolean> {
    return atBoundary(async () => {
      if (!isSafeSegment(tenant) || !isSafeSegment(id)) return false;
      return stat(this.#unfinishedPath(tenant, id)).then(
        () => true,
        (error: unknown) => {
          if (errnoOf(error) === 'ENOENT') return false;
          throw error;
        },
      );
    });
  }

  ping(): Promise<void> {
    return atBoundary(() => checkFolder(this.#root));
  }

  /** One flat folder (ids and tenants never hold the separator), so listing is one readdir. */
  #unfinishedPath(tenant: string, id: string): string {
    return join(this.#root, 'unfinished', `${tenant}${UNFINISHED_SEPARATOR}${id}`);
  }

  #jobDir(tenant: string, id: string): string | undefined {
    return isSafeSegment(tenant) && isSafeSegment(id)
      ? join(this.#root, 'jobs', tenant, id)
      : undefined;
  }

  async #revisions(dir: string): Promise<number[]> {
    try {
      return (await readdir(dir)).flatMap((name) => {
        const match = REVISION.exec(name);
        return match ? [Number(match[1])] : [];
      });
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw error;
    }
  }

  async #latest(dir: string): Promise<Latest | undefined> {
    // A writer may prune the revision we picked between readdir and read: look again.
    for (;;) {
      const revisions = await this.#revisions(dir);
      if (revisions.length === 0) return undefined;
      const revision = Math.max(...revisions);
      try {
        const job = JSON.parse(
          await readFile(join(dir, `job.${revision}.json`), 'utf8'),
        ) as JobRecord;
        return { revision, job };
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw error;
      }
    }
  }
}
