import {
  KeyNotFoundError,
  type ApiKeyRecord,
  type KeyStore,
  type WebhookSecret,
} from '../../ports/key-store.ts';
import { byCreation } from '../key-order.ts';

/** KeyStore in process memory: for tests and single-process runs. */
export class MemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, ApiKeyRecord>();
  readonly #secrets = new Map<string, WebhookSecret[]>();

  putKey(record: ApiKeyRecord): Promise<void> {
    this.#keys.set(record.id, structuredClone(record));
    return Promise.resolve();
  }

  getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const record = this.#keys.get(id);
    return Promise.resolve(record && structuredClone(record));
  }

  listKeys(tenant?: string): Promise<ApiKeyRecord[]> {
    const keys = [...this.#keys.values()].filter(
      (k) => tenant === undefined || k.tenant === tenant,
    );
    return Promise.resolve(keys.sort(byCreation).map((k) => structuredClone(k)));
  }

  revokeKey(id: string, at: Date): Promise<void> {
    const record = this.#keys.get(id);
    if (!record) return Promise.reject(new KeyNotFoundError(`no API key ${id}`));
    this.#keys.set(id, { ...record, revokedAt: at.toISOString() });
    return Promise.resolve();
  }

  getWebhookSecrets(tenant: string): Promise<WebhookSecret[]> {
    return Promise.resolve(structuredClone(this.#secrets.get(tenant) ?? []));
  }

  putWebhookSecrets(tenant: string, secrets: WebhookSecret[]): Promise<void> {
    this.#secrets.set(tenant, structuredClone(secrets));
    return Promise.resolve();
  }
}
