import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  KeyNotFoundError,
  type ApiKeyRecord,
  type KeyStore,
  type WebhookSecret,
} from '../../ports/key-store.ts';
import { byCreation } from '../key-order.ts';
import { atBoundary, errnoOf, isSafeSegment, readJson, writeFileAtomic } from './fs-files.ts';

export interface FsKeyStoreOptions {
  /** Key records go to `{root}/keys/{id}.json`, secrets to `{root}/webhook-secrets/{tenant}.json`. */
  readonly root: string;
}

/** KeyStore in a local folder: one JSON file per key and per tenant, each written atomically. */
export class FsKeyStore implements KeyStore {
  readonly #keys: string;
  readonly #secrets: string;

  constructor(options: FsKeyStoreOptions) {
    this.#keys = join(options.root, 'keys');
    this.#secrets = join(options.root, 'webhook-secrets');
  }

  putKey(record: ApiKeyRecord): Promise<void> {
    return atBoundary(() => writeFileAtomic(this.#keyPath(record.id), JSON.stringify(record)));
  }

  getKey(id: string): Promise<ApiKeyRecord | undefined> {
    return atBoundary(async () =>
      isSafeSegment(id)
        ? ((await readJson(this.#keyPath(id))) as ApiKeyRecord | undefined)
        : undefined,
    );
  }

  listKeys(tenant?: string): Promise<ApiKeyRecord[]> {
    return atBoundary(async () => {
      const names = await readdir(this.#keys).catch((error: unknown) => {
        if (errnoOf(error) === 'ENOENT') return [];
        throw error;
      });
      const records: ApiKeyRecord[] = [];
      for (const name of names) {
        if (!name.endsWith('.json') || name.startsWith('.')) continue;
        const record = (await readJson(join(this.#keys, name))) as ApiKeyRecord | undefined;
        if (record && (tenant === undefined || record.tenant === tenant)) records.push(record);
      }
      return records.sort(byCreation);
    });
  }

  revokeKey(id: string, at: Date): Promise<void> {
    return atBoundary(async () => {
      const record = await this.getKey(id);
      if (!record) throw new KeyNotFoundError(`no API key ${id}`);
      await writeFileAtomic(
        this.#keyPath(id),
        JSON.stringify({ ...record, revokedAt: at.toISOString() }),
      );
    });
  }

  getWebhookSecrets(tenant: string): Promise<WebhookSecret[]> {
    return atBoundary(async () =>
      isSafeSegment(tenant)
        ? (((await readJson(this.#secretsPath(tenant))) as WebhookSecret[] | undefined) ?? [])
        : [],
    );
  }

  putWebhookSecrets(tenant: string, secrets: WebhookSecret[]): Promise<void> {
    return atBoundary(() => writeFileAtomic(this.#secretsPath(tenant), JSON.stringify(secrets)));
  }

  #keyPath(id: string): string {
    if (!isSafeSegment(id)) throw new RangeError(`unsafe API key id: ${id}`);
    return join(this.#keys, `${id}.json`);
  }

  #secretsPath(tenant: string): string {
    if (!isSafeSegment(tenant)) throw new RangeError(`unsafe tenant: ${tenant}`);
    return join(this.#secrets, `${tenant}.json`);
  }
}
