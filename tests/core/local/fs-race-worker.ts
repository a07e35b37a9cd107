/**
 * A separate Node process for fs-race.test.ts: waits for the parent's 'go', races the other
 * workers on the same folder, and sends back what it got.
 */
import { FsJobStore } from '../../../core/adapters/local/fs-job-store.ts';
import { FsMessageQueue } from '../../../core/adapters/local/fs-message-queue.ts';
import { VersionConflictError, type JobRecord } from '../../../core/ports/job-store.ts';

const [mode = '', dir = '', name = '', countArg = '0'] = process.argv.slice(2);

async function drainQueue(): Promise<unknown> {
  const queue = new FsMessageQueue<{ n: number }>({ dir, visibilitySeconds: 120 });
  const got: { n: number; receiveCount: number }[] = [];
  for (let empty = 0; empty < 2;) {
    const batch = await queue.receive({ maxMessages: 10 });
    empty = batch.length === 0 ? empty + 1 : 0;
    for (const d of batch) got.push({ n: d.body.n, receiveCount: d.receiveCount });
  }
  return got;
}

async function racePuts(): Promise<unknown> {
  const store = new FsJobStore({ root: dir });
  const won: string[] = [];
  for (let i = 0; i < Number(countArg); i++) {
    const next: JobRecord<{ winner: string }> = {
      id: `job${i}`,
      tenant: 't1',
      status: 'running',
      version: 2,
      createdAt: '2026-11-26T10:00:00.000Z',
      data: { winner: name },
    };
    try {
      await store.put(next, 1);
      won.push(next.id);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  return won;
}

process.send?.('ready');
process.once('message', () => {
  void (mode === 'queue' ? drainQueue() : racePuts()).then(
    (result) => {
      process.send?.({ result }, () => process.exit(0));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
