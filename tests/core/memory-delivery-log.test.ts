import { describe } from 'vitest';
import { MemoryDeliveryLog } from '../../core/adapters/memory/memory-delivery-log.ts';
import { deliveryLogContract } from './contracts/delivery-log.contract.ts';

describe('MemoryDeliveryLog', () => {
  deliveryLogContract(() => new MemoryDeliveryLog());
});
