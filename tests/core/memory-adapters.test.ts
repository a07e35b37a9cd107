import { describe } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import { MemoryKeyStore } from '../../core/adapters/memory/memory-key-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import { blobStoreContract } from './contracts/blob-store.contract.ts';
import { keyStoreContract } from './contracts/key-store.contract.ts';
import { messageQueueContract } from './contracts/message-queue.contract.ts';

describe('MemoryMessageQueue', () => {
  messageQueueContract(({ visibilitySeconds, maxReceives }) => {
    const deadLetter = new MemoryMessageQueue<{ n: number }>();
    const queue = new MemoryMessageQueue<{ n: number }>({
      visibilitySeconds,
      deadLetter: { queue: deadLetter, maxReceives },
    });
    return { queue, deadLetter };
  });
});

describe('MemoryBlobStore', () => {
  blobStoreContract(() => new MemoryBlobStore());
});

describe('MemoryKeyStore', () => {
  keyStoreContract(() => new MemoryKeyStore());
});
