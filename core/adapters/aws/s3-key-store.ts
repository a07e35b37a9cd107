import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  KeyNotFoundError,
  type ApiKeyRecord,
  type KeyStore,
  type WebhookSecret,
} from '../../ports/key-store.ts';
import { KEYS, PREFIXES } from '../../storage-layout.ts';
import { byCreation } from '../key-order.ts';
import { atAwsBoundary, isPreconditionFailed } from './aws-errors.ts';
import { getJson, normalizePrefix, putJson } from './s3-objects.ts';

export interface S3KeyStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key; none by default. */
  readonly prefix?: string | undefined;
}

/**
 * KeyStore on S3: `keys/{id}.json` per API key (SHA-256 only, never the secret) and
 * `webhook-secrets/{tenant}.json` per tenant. Revocation is a conditional read-modify-write.
 */
export class S3KeyStore implements KeyStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3KeyStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix);
  }

  putKey(record: ApiKeyRecord): Promise<void> {
    return atAwsBoundary('storing an API key', async () => {
      await putJson(this.#client, this.#bucket, this.#keyKey(record.id), record);
    });
  }

  getKey(id: string): Promise<ApiKeyRecord | undefined> {
    return atAwsBoundary('reading an API key', async () => {
      return (await getJson<ApiKeyRecord>(this.#client, this.#bucket, this.#keyKey(id)))?.value;
    });
  }

  listKeys(tenant?: string): Promise<ApiKeyRecord[]> {
    return atAwsBoundary('listing API keys', async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + PREFIXES.keys,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      const records = await Promise.all(
        keys.map(async (k) => (await getJson<ApiKeyRecord>(this.#client, this.#bucket, k))?.value),
      );
      return records
        .filter((r): r is ApiKeyRecord => !!r && (tenant === undefined || r.tenant === tenant))
        .sort(byCreation);
    });
  }

  revokeKey(id: string, at: Date): Promise<void> {
    return atAwsBoundary('revoking an API key', async () => {
      const key = this.#keyKey(id);
      // If-Match keeps a concurrent change of the record from being overwritten; retry on it.
      for (let attempt = 0; ; attempt++) {
        const found = await getJson<ApiKeyRecord>(this.#client, this.#bucket, key);
        if (!found) throw new KeyNotFoundError(`no API key ${id}`);
        const revoked = { ...found.value, revokedAt: at.toISOString() };
        try {
          await putJson(this.#client, this.#bucket, key, revoked, { ifMatch: found.etag });
          return;
        } catch (error) {
          if (!isPreconditionFailed(error) || attempt >= 3) throw error;
        }
      }
    });
  }

  getWebhookSecrets(tenant: string): Promise<WebhookSecret[]> {
    return atAwsBoundary('reading webhook secrets', async () => {
      const found = await getJson<WebhookSecret[]>(
        this.#client,
        this.#bucket,
        this.#secretsKey(tenant),
      );
      return found?.value ?? [];
    });
  }

  putWebhookSecrets(tenant: string, secrets: WebhookSecret[]): Promise<void> {
    return atAwsBoundary('storing webhook secrets', async () => {
      await putJson(this.#client, this.#bucket, this.#secretsKey(tenant), secrets);
    });
  }

  #keyKey(id: string): string {
    return this.#prefix + KEYS.apiKey(id);
  }

  #secretsKey(tenant: string): string {
    return this.#prefix + KEYS.webhookSecret(tenant);
  }
}
