import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { indexNameOf } from '../../core/adapters/newest-first-index.ts';
import type { JobRecord } from '../../core/ports/job-store.ts';
import { nextJobId } from '../../core/ids.ts';

/**
 * The API's peer for the submit bench: a route that does only the durable writes a submit does
 * on the local adapters, with plain `fs` calls, and nothing else (no auth, validation, rate
 * limit or backpressure). Per request, as FsJobStore.create and FsMessageQueue.send write them:
 * the `unfinished/` and `index/` entries and `job.0.json`, each a temp file link()ed into place
 * (exclusive create), then the queue message, a temp file rename()d into `queues/jobs/messages`.
 * The record is the one the API stored for an earlier request, with a fresh id and time.
 *
 * `fsync`: also flush each file before it is linked or renamed, and each folder after, which is
 * what it takes for the writes to survive a power cut. The local adapters do not do this (a
 * killed process loses nothing, a lost machine may), so the peer without fsync does exactly their
 * writes, and the one with it shows what durability against power loss would cost.
 */
export function fsEnqueuePeer(root: string, template: JobRecord, fsync: boolean): Hono {
  async function writeTemp(dir: string, data: string): Promise<string> {
    // Every time, as the adapters do (they cannot know the folder is there).
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(data);
      if (fsync) await file.sync();
    } finally {
      await file.close();
    }
    return temp;
  }
  async function syncDir(dir: string): Promise<void> {
    if (!fsync) return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  async function createExclusive(path: string, data: string): Promise<void> {
    const temp = await writeTemp(dirname(path), data);
    try {
      await link(temp, path);
    } finally {
      await unlink(temp);
    }
    await syncDir(dirname(path));
  }

  const app = new Hono();
  app.post('/v1/generations', async (c) => {
    await c.req.text();
    const now = Date.now();
    const job: JobRecord = {
      ...template,
      id: nextJobId(now),
      createdAt: new Date(now).toISOString(),
    };
    await Promise.all([
      createExclusive(join(root, 'unfinished', `${job.tenant}~${job.id}`), ''),
      createExclusive(join(root, 'index', job.tenant, indexNameOf(job)), ''),
    ]);
    await createExclusive(
      join(root, 'jobs', job.tenant, job.id, 'job.0.json'),
      JSON.stringify(job),
    );
    const messages = join(root, 'queues', 'jobs', 'messages');
    const name = `${String(now).padStart(15, '0')}.${randomBytes(8).toString('hex')}.0.${randomBytes(6).toString('hex')}.json`;
    const temp = await writeTemp(
      messages,
      JSON.stringify({ body: { tenant: job.tenant, jobId: job.id } }),
    );
    await rename(temp, join(messages, name));
    await syncDir(messages);
    return c.json({ id: job.id, status: job.status }, 202);
  });
  return app;
}
