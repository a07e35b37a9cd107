import { randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
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
import { KEYS, PREFIXES } from '../../storage-layout.ts';
import { MAX_PAGE } from '../page.ts';
import { atAwsBoundary, isNotFound, isPreconditionFailed, statusOf } from './aws-errors.ts';
import { getJson, normalizePrefix, putJson } from './s3-objects.ts';

export interface S3JobStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key (e.g. `ditserve/`); none by default. */
  readonly prefix?: string | undefined;
  /** How many (job → ETag of a version we saw) pairs to remember, saving a GET per put. */
  readonly etagCacheSize?: number | undefined;
}

/**
 * JobStore on S3 with conditional writes: create is `If-None-Match: *`, put is `If-Match` on the
 * ETag of the version the caller read (from a small cache, else one GET); S3 answers 412 to the
 * loser, which becomes VersionConflictError. Listing newest first reads a write-once index
 * `index/{tenant}/{inverted ms}-{inverted id}~` (one empty object per job), then GETs the jobs
 * of the page; a status filter is applied to the jobs read, so filtered pages may cost more GETs.
 */
export class S3JobStore implements JobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #etags = new Map<string, { version: number; etag: string }>();
  readonly #cacheSize: number;

  constructor(options: S3JobStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix);
    this.#cacheSize = options.etagCacheSize ?? 1000;
  }

  create<D>(job: JobRecord<D>): Promise<void> {
    return atAwsBoundary('creating a job', async () => {
      const key = this.#jobKey(job.tenant, job.id);
      const token = randomUUID();
      // Both indexes before the job, so a stored job is always listed and always in the
      // sweeper's view, whatever dies after. Listing skips entries whose job was never stored,
      // and an entry's name derives from the job alone, so writing it twice is harmless.
      await Promise.all([
        this.#putEmpty(this.#unfinishedKey(job.tenant, job.id)),
        this.#putEmpty(this.#indexKey(job)),
      ]);
      let etag: string;
      try {
        etag = await putJson(this.#client, this.#bucket, key, job, { ifNoneMatch: '*' }, token);
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
        // The SDK retries a PUT whose answer was lost; the retry of our own create meets our
        // object and gets 412. That is success, not a duplicate.
        const own = await this.#ownWrite(key, token);
        if (!own) throw new VersionConflictError(`job ${job.id} already exists`, { cause: error });
        etag = own;
      }
      this.#remember(key, job.version, etag);
    });
  }

  get<D>(tenant: string, id: string): Promise<JobRecord<D>> {
    return atAwsBoundary('reading a job', async () => {
      const key = this.#jobKey(tenant, id);
      const found = await getJson<JobRecord<D>>(this.#client, this.#bucket, key);
      if (!found) throw new JobNotFoundError(`no job ${id}`);
      this.#remember(key, found.value.version, found.etag);
      return found.value;
    });
  }

  put<D>(next: JobRecord<D>, expectedVersion: number): Promise<void> {
    return atAwsBoundary('updating a job', async () => {
      const key = this.#jobKey(next.tenant, next.id);
      const conflict = (cause?: unknown): VersionConflictError =>
        new VersionConflictError(`job ${next.id} is no longer at version ${expectedVersion}`, {
          cause,
        });
      if (next.version <= expectedVersion) throw conflict();
      const token = randomUUID();
      let etag = this.#cachedEtag(key, expectedVersion);
      if (!etag) {
        const current = await getJson<JobRecord>(this.#client, this.#bucket, key);
        if (!current) throw new JobNotFoundError(`no job ${next.id}`);
        if (current.value.version !== expectedVersion) throw conflict();
        etag = current.etag;
      }
      try {
        this.#remember(
          key,
          next.version,
          await putJson(this.#client, this.#bucket, key, next, { ifMatch: etag }, token),
        );
      } catch (error) {
        this.#etags.delete(key);
        const own = isPreconditionFailed(error) ? await this.#ownWrite(key, token) : undefined;
        if (own) {
          this.#remember(key, next.version, own);
          return;
        }
        if (isPreconditionFailed(error)) throw conflict(error);
        if (isNotFound(error)) throw new JobNotFoundError(`no job ${next.id}`, { cause: error });
        throw error;
      }
    });
  }

  list<D>(tenant: string, options: ListOptions = {}): Promise<JobPage<D>> {
    return atAwsBoundary('listing jobs', async () => {
      const limit = Math.max(1, Math.min(options.limit ?? 20, MAX_PAGE));
      const tenantIndex = this.#prefix + KEYS.tenantIndex(tenant);
      const after = options.after
        ? indexNameOf(options.after)
        : options.cursor
          ? decodeIndexCursor(options.cursor)
          : undefined;
      let startAfter = after === undefined ? undefined : tenantIndex + after;
      const page: { job: JobRecord<D>; name: string }[] = [];
      for (;;) {
        const listed = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: tenantIndex,
            MaxKeys: limit + 1 - page.length,
            ...(startAfter ? { StartAfter: startAfter } : {}),
          }),
        );
        const keys = (listed.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
        const jobs = await Promise.all(
          keys.map((k) => this.#jobOfIndexKey<D>(tenant, tenantIndex, k)),
        );
        for (const [i, job] of jobs.entries()) {
          if (job && (!options.status || job.status === options.status)) {
            page.push({ job, name: (keys[i] ?? '').slice(tenantIndex.length) });
          }
        }
        startAfter = keys.at(-1);
        if (page.length > limit || !listed.IsTruncated || !startAfter) break;
      }
      return indexPage(page, limit);
    });
  }

  claimIdempotencyKey(
    tenant: string,
    record: IdempotencyRecord,
  ): Promise<IdempotencyRecord | undefined> {
    return atAwsBoundary('claiming an idempotency key', async () => {
      const key = this.#prefix + KEYS.idempotency(tenant, record.keyHash);
      // A conditional write racing another can lose with 409 before the winner's object is
      // readable: look a few times before giving up.
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await putJson(this.#client, this.#bucket, key, record, { ifNoneMatch: '*' });
          return undefined;
        } catch (error) {
          if (!isPreconditionFailed(error)) throw error;
        }
        const existing = await getJson<IdempotencyRecord>(this.#client, this.#bucket, key);
        if (existing) return existing.value;
        await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
      }
      throw new VersionConflictError(`idempotency key ${record.keyHash} is being claimed`);
    });
  }

  listUnfinished(options: { limit?: number; cursor?: string } = {}): Promise<UnfinishedPage> {
    return atAwsBoundary('listing unfinished jobs', async () => {
      const prefix = this.#prefix + PREFIXES.unfinished;
      const listed = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: prefix,
          MaxKeys: Math.max(1, Math.min(options.limit ?? 100, 1000)),
          ...(options.cursor ? { StartAfter: prefix + options.cursor } : {}),
        }),
      );
      const objects = (listed.Contents ?? []).flatMap((o) =>
        o.Key ? [{ name: o.Key.slice(prefix.length), since: o.LastModified ?? new Date(0) }] : [],
      );
      const refs = objects.flatMap(({ name, since }) => {
        const [tenant, id, ...rest] = name.split('/');
        return tenant && id && rest.length === 0
          ? [{ tenant, id, since: since.toISOString() }]
          : [];
      });
      const last = objects.at(-1)?.name;
      return { refs, nextCursor: listed.IsTruncated && last ? last : undefined };
    });
  }

  dropUnfinished(tenant: string, id: string): Promise<void> {
    return atAwsBoundary('settling a job', async () => {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#unfinishedKey(tenant, id) }),
      );
    });
  }

  isUnfinished(tenant: string, id: string): Promise<boolean> {
    return atAwsBoundary('reading the unfinished index', async () => {
      try {
        await this.#client.send(
          new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#unfinishedKey(tenant, id) }),
        );
        return true;
      } catch (error) {
        if (isNotFound(error) || statusOf(error) === 404) return false;
        throw error;
      }
    });
  }

  ping(): Promise<void> {
    return atAwsBoundary('reaching the job bucket', async () => {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    });
  }

  #jobKey(tenant: string, id: string): string {
    return this.#prefix + KEYS.job(tenant, id);
  }

  #unfinishedKey(tenant: string, id: string): string {
    return this.#prefix + KEYS.unfinished(tenant, id);
  }

  async #putEmpty(key: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: new Uint8Array(0) }),
    );
  }

  /** The stored object's ETag when the write `token` stored it (our write landed). */
  async #ownWrite(key: string, token: string): Promise<string | undefined> {
    const stored = await getJson(this.#client, this.#bucket, key);
    return stored?.writeToken === token ? stored.etag || undefined : undefined;
  }

  #indexKey(job: JobRecord): string {
    return this.#prefix + KEYS.indexEntry(job.tenant, indexNameOf(job));
  }

  async #jobOfIndexKey<D>(
    tenant: string,
    tenantIndex: string,
    indexKey: string,
  ): Promise<JobRecord<D> | undefined> {
    const id = idOfIndexName(indexKey.slice(tenantIndex.length));
    if (id === undefined) return undefined;
    const key = this.#jobKey(tenant, id);
    const found = await getJson<JobRecord<D>>(this.#client, this.#bucket, key);
    if (found) this.#remember(key, found.value.version, found.etag);
    return found?.value;
  }

  #cachedEtag(key: string, version: number): string | undefined {
    const cached = this.#etags.get(key);
    return cached?.version === version ? cached.etag : undefined;
  }

  #remember(key: string, version: number, etag: string): void {
    if (!etag) return;
    this.#etags.delete(key);
    this.#etags.set(key, { version, etag });
    if (this.#etags.size > this.#cacheSize) {
      const oldest = this.#etags.keys().next();
      if (!oldest.done) this.#etags.delete(oldest.value);
    }
  }
}
