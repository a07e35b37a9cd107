import { expect, it } from 'vitest';
import {
  KeyNotFoundError,
  type ApiKeyRecord,
  type KeyStore,
  type WebhookSecret,
} from '../../../core/ports/key-store.ts';

/** The behaviour every KeyStore adapter must show. */
export function keyStoreContract(makeStore: () => Promise<KeyStore> | KeyStore): void {
  const key = (id: string, tenant = 't1', minute = 0): ApiKeyRecord => ({
    id,
    tenant,
    name: `key ${id}`,
    hash: id.padEnd(64, '0'),
    createdAt: new Date(Date.UTC(2026, 10, 26, 10, minute)).toISOString(),
  });
  const secret = (s: string, expiresAt?: string): WebhookSecret => ({
    secret: `whsec_${s}`,
    createdAt: '2026-11-26T10:00:00.000Z',
    ...(expiresAt ? { expiresAt } : {}),
  });

  it('stores a key record and finds it by id; an unknown id is undefined', async () => {
    const store = await makeStore();
    await store.putKey(key('aaaaaaaaaaaa'));
    expect(await store.getKey('aaaaaaaaaaaa')).toEqual(key('aaaaaaaaaaaa'));
    expect(await store.getKey('bbbbbbbbbbbb')).toBeUndefined();
  });

  it('lists keys oldest first, for one tenant or all', async () => {
    const store = await makeStore();
    await store.putKey(key('000000000002', 't1', 2));
    await store.putKey(key('000000000001', 't1', 1));
    await store.putKey(key('000000000003', 't2', 3));
    expect((await store.listKeys('t1')).map((k) => k.id)).toEqual(['000000000001', '000000000002']);
    expect((await store.listKeys()).map((k) => k.id)).toEqual([
      '000000000001',
      '000000000002',
      '000000000003',
    ]);
    expect(await store.listKeys('t3')).toEqual([]);
  });

  it('revokes a key by marking it, keeping the record for audit', async () => {
    const store = await makeStore();
    await store.putKey(key('aaaaaaaaaaaa'));
    const at = new Date('2026-11-27T00:00:00.000Z');
    await store.revokeKey('aaaaaaaaaaaa', at);
    expect(await store.getKey('aaaaaaaaaaaa')).toEqual({
      ...key('aaaaaaaaaaaa'),
      revokedAt: at.toISOString(),
    });
    await expect(store.revokeKey('bbbbbbbbbbbb', at)).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('keeps webhook secrets per tenant and replaces them as a whole', async () => {
    const store = await makeStore();
    expect(await store.getWebhookSecrets('t1')).toEqual([]);
    await store.putWebhookSecrets('t1', [secret('one')]);
    await store.putWebhookSecrets('t2', [secret('two')]);
    const rotated = [secret('new'), secret('one', '2026-11-28T00:00:00.000Z')];
    await store.putWebhookSecrets('t1', rotated);
    expect(await store.getWebhookSecrets('t1')).toEqual(rotated);
    expect(await store.getWebhookSecrets('t2')).toEqual([secret('two')]);
  });

  it('returns copies: mutating a read record does not change the store', async () => {
    const store = await makeStore();
    await store.putKey(key('aaaaaaaaaaaa'));
    const read = (await store.getKey('aaaaaaaaaaaa')) as { name: string };
    read.name = 'changed';
    expect((await store.getKey('aaaaaaaaaaaa'))?.name).toBe('key aaaaaaaaaaaa');
  });
}
