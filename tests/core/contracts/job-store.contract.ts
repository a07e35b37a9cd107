import { expect, it } from 'vitest';
import { transition } from '../../../core/job.ts';
import {
  JobNotFoundError,
  VersionConflictError,
  type JobRecord,
  type JobStore,
} from '../../../core/ports/job-store.ts';

/**
 * The behaviour every JobStore adapter must show. Call it inside a describe() with a factory for
 * a fresh, empty store; the filesystem and S3 adapters will run the same suite.
 */
export function jobStoreContract(makeStore: () => Promise<JobStore> | JobStore): void {
  const job = (id: string, tenant = 't1', minute = 0): JobRecord<{ prompt: string }> => ({
    id,
    tenant,
    status: 'queued',
    version: 1,
    createdAt: new Date(Date.UTC(2026, 10, 26, 10, minute)).toISOString(),
    data: { prompt: `prompt ${id}` },
  });

  it('creates, reads back an equal copy, and refuses a second create of the same id', async () => {
    const store = await makeStore();
    await store.create(job('a'));
    expect(await store.get('t1', 'a')).toEqual(job('a'));
    await expect(store.create(job('a'))).rejects.toBeInstanceOf(VersionConflictError);
  });

  it('hides other tenants’ jobs as not found', async () => {
    const store = await makeStore();
    await store.create(job('a', 't1'));
    await expect(store.get('t2', 'a')).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await store.list('t2')).jobs).toEqual([]);
  });

  it('applies a transition only on the version that was read', async () => {
    const store = await makeStore();
    await store.create(job('a'));
    const read = await store.get<{ prompt: string }>('t1', 'a');
    const running = transition(read, 'running', new Date());
    await store.put(running, read.version);
    // A second writer that read the same version loses the race.
    await expect(
      store.put(transition(read, 'canceled', new Date()), read.version),
    ).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get('t1', 'a')).status).toBe('running');
  });

  it('lists a tenant’s jobs newest first, with limit and status filter', async () => {
    const store = await makeStore();
    await store.create(job('old', 't1', 1));
    await store.create(job('new', 't1', 2));
    await store.create(job('other', 't2', 3));
    expect((await store.list('t1')).jobs.map((j) => j.id)).toEqual(['new', 'old']);
    const first = await store.list('t1', { limit: 1 });
    expect(first.jobs.map((j) => j.id)).toEqual(['new']);
    const second = await store.list('t1', { limit: 1, cursor: first.nextCursor });
    expect(second.jobs.map((j) => j.id)).toEqual(['old']);
    expect(second.nextCursor).toBeUndefined();
    expect((await store.list('t1', { status: 'running' })).jobs).toEqual([]);
  });

  it('pages through every job once, ties on createdAt broken by id (descending)', async () => {
    const store = await makeStore();
    const jobs = [
      job('a', 't1', 5),
      job('ab', 't1', 5),
      job('b', 't1', 5),
      job('c', 't1', 4),
      job('d', 't1', 7),
      job('e', 't1', 1),
      job('f', 't1', 4),
    ];
    for (const j of jobs) await store.create(j);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list('t1', { limit: 3, cursor });
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['d', 'b', 'ab', 'a', 'f', 'c', 'e']);
  });

  it('starts after a named job (`after`, as OpenAI lists do), ties broken as in the order', async () => {
    const store = await makeStore();
    for (const j of [job('a', 't1', 5), job('b', 't1', 5), job('c', 't1', 4), job('d', 't1', 7)]) {
      await store.create(j);
    }
    const b = await store.get('t1', 'b');
    const page = await store.list('t1', { limit: 2, after: b });
    expect(page.jobs.map((j) => j.id)).toEqual(['a', 'c']);
    expect(page.nextCursor).toBeUndefined();
  });

  it('pages a status filter without dropping matches between pages', async () => {
    const store = await makeStore();
    for (let minute = 0; minute < 8; minute++) {
      const j = job(`j${minute}`, 't1', minute);
      await store.create(minute % 3 === 0 ? { ...j, status: 'running' } : j);
    }
    const first = await store.list('t1', { status: 'running', limit: 2 });
    expect(first.jobs.map((j) => j.id)).toEqual(['j6', 'j3']);
    const second = await store.list('t1', {
      status: 'running',
      limit: 2,
      cursor: first.nextCursor,
    });
    expect(second.jobs.map((j) => j.id)).toEqual(['j0']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('claims an idempotency key once per tenant and returns the first claim after that', async () => {
    const store = await makeStore();
    const rec = {
      keyHash: 'k'.repeat(64),
      fingerprint: 'f1',
      jobId: 'a',
      createdAt: '2026-11-26T00:00:00.000Z',
    };
    expect(await store.claimIdempotencyKey('t1', rec)).toBeUndefined();
    expect(
      await store.claimIdempotencyKey('t1', { ...rec, fingerprint: 'f2', jobId: 'b' }),
    ).toEqual(rec);
    expect(await store.claimIdempotencyKey('t2', { ...rec, jobId: 'c' })).toBeUndefined();
  });

  it('answers ping', async () => {
    const store = await makeStore();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('returns copies: mutating a read record does not change the store', async () => {
    const store = await makeStore();
    await store.create(job('a'));
    const read = await store.get<{ prompt: string }>('t1', 'a');
    read.data.prompt = 'changed';
    expect((await store.get<{ prompt: string }>('t1', 'a')).data.prompt).toBe('prompt a');
  });

  it('keeps every created job in the unfinished index, across tenants and pages, until dropped', async () => {
    const store = await makeStore();
    await store.create(job('a', 't1', 1));
    await store.create(job('b', 't2', 2));
    await store.create(job('c', 't1', 3));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listUnfinished({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.refs.length).toBeLessThanOrEqual(2);
      for (const ref of page.refs) expect(Number.isNaN(Date.parse(ref.since))).toBe(false);
      seen.push(...page.refs.map((r) => `${r.tenant}/${r.id}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['t1/a', 't1/c', 't2/b']);
    // A terminal write alone does not drop it: the job leaves once its end is announced.
    const read = await store.get('t1', 'a');
    await store.put(transition(read, 'canceled', new Date()), read.version);
    expect((await store.listUnfinished()).refs).toContainEqual(
      expect.objectContaining({ tenant: 't1', id: 'a' }),
    );
    expect(await store.isUnfinished('t1', 'a')).toBe(true);
    await store.dropUnfinished('t1', 'a');
    await store.dropUnfinished('t1', 'a');
    expect(await store.isUnfinished('t1', 'a')).toBe(false);
    expect(await store.isUnfinished('t9', 'never')).toBe(false);
    await store.dropUnfinished('t9', 'never');
    const left = (await store.listUnfinished()).refs.map((r) => `${r.tenant}/${r.id}`);
    expect(left.sort()).toEqual(['t1/c', 't2/b']);
  });
}
