import { describe } from 'vitest';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { jobStoreContract } from './contracts/job-store.contract.ts';

describe('MemoryJobStore', () => {
  jobStoreContract(() => new MemoryJobStore());
});
