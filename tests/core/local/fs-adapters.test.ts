import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'vitest';
import { FsBlobStore } from '../../../core/adapters/local/fs-blob-store.ts';
import { FsDeliveryLog } from '../../../core/adapters/local/fs-delivery-log.ts';
import { FsJobStore } from '../../../core/adapters/local/fs-job-store.ts';
import { FsKeyStore } from '../../../core/adapters/local/fs-key-store.ts';
import { FsMessageQueue } from '../../../core/adapters/local/fs-message-queue.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { blobStoreContract } from '../contracts/blob-store.contract.ts';
import { deliveryLogContract } from '../contracts/delivery-log.contract.ts';
import { jobStoreContract } from '../contracts/job-store.contract.ts';
import { keyStoreContract } from '../contracts/key-store.contract.ts';
import { messageQueueContract } from '../contracts/message-queue.contract.ts';

const root = await tempDir('ditserve-fs-');
/** Every case gets an empty folder of its own. */
const fresh = (): Promise<string> => mkdtemp(join(root, 'case-'));

describe('FsJobStore', () => {
  jobStoreContract(async () => new FsJobStore({ root: await fresh() }));
});

describe('FsMessageQueue', () => {
  messageQueueContract(async ({ visibilitySeconds, maxReceives }) => {
    const dir = await fresh();
    const deadLetter = new FsMessageQueue<{ n: number }>({ dir: join(dir, 'dead') });
    const queue = new FsMessageQueue<{ n: number }>({
      dir: join(dir, 'main'),
      visibilitySeconds,
      deadLetter: { dir: join(dir, 'dead'), maxReceives },
    });
    return { queue, deadLetter };
  });
});

describe('FsBlobStore', () => {
  blobStoreContract(
    async () =>
      new FsBlobStore({
        root: await fresh(),
        baseUrl: 'http://127.0.0.1:8080',
        signingSecret: 'test-secret',
      }),
  );
});

describe('FsKeyStore', () => {
  keyStoreContract(async () => new FsKeyStore({ root: await fresh() }));
});

describe('FsDeliveryLog', () => {
  deliveryLogContract(async () => new FsDeliveryLog(await fresh()));
});
