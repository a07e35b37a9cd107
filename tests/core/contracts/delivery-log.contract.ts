import { expect, it } from 'vitest';
import type { DeliveryAttempt, DeliveryLog } from '../../../core/ports/delivery-log.ts';

function attempt(n: number, at: string, extra: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    webhookId: 'msg_1',
    type: 'generation.succeeded',
    attempt: n,
    at,
    outcome: 'retry',
    statusCode: 500,
    durationMs: 12,
    nextRetryAt: '2025-01-01T00:01:00.000Z',
    ...extra,
  };
}

/**
 * What every DeliveryLog adapter must do. Call it inside a describe() with a factory for a fresh,
 * empty log; the memory, filesystem and S3 adapters' test files run it.
 */
export function deliveryLogContract(makeLog: () => Promise<DeliveryLog> | DeliveryLog): void {
  it('lists nothing for a job without attempts', async () => {
    const log = await makeLog();
    expect(await log.list('acme', 'gen_none')).toEqual([]);
  });

  it('lists a job’s attempts oldest first, exactly as appended', async () => {
    const log = await makeLog();
    const second = attempt(2, '2025-01-01T00:00:10.000Z', {
      outcome: 'delivered',
      statusCode: 200,
      nextRetryAt: undefined,
    });
    const first = attempt(1, '2025-01-01T00:00:00.000Z', { error: 'timed out' });
    await log.append('acme', 'gen_a', second);
    await log.append('acme', 'gen_a', first);
    const listed = await log.list('acme', 'gen_a');
    expect(listed).toHaveLength(2);
    expect(listed[0]).toEqual(first);
    expect(listed[1]).toMatchObject({ attempt: 2, outcome: 'delivered', statusCode: 200 });
  });

  it('keeps jobs and tenants apart', async () => {
    const log = await makeLog();
    await log.append('acme', 'gen_b', attempt(1, '2025-01-01T00:00:00.000Z'));
    await log.append('other', 'gen_b', attempt(1, '2025-01-01T00:00:00.000Z'));
    await log.append('acme', 'gen_c', attempt(1, '2025-01-01T00:00:00.000Z'));
    expect(await log.list('acme', 'gen_b')).toHaveLength(1);
  });

  it('loses nothing when attempts are appended concurrently, even at the same instant', async () => {
    const log = await makeLog();
    const at = '2025-01-01T00:00:00.000Z';
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => log.append('acme', 'gen_d', attempt(1 + (i % 2), at))),
    );
    expect(await log.list('acme', 'gen_d')).toHaveLength(20);
  });
}
