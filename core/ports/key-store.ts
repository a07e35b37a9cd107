import { DitserveError } from '../errors.ts';

export class KeyNotFoundError extends DitserveError {
  readonly code = 'key_not_found';
}

/** What is stored of an API key: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  /** Public id, also the secret's prefix (`dsk_<id>_<secret>`), so lookup needs no scan. */
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  /** Hex SHA-256 of the whole key string. */
  readonly hash: string;
  readonly createdAt: string;
  readonly revokedAt?: string | undefined;
}

/** Per-tenant webhook signing secrets (`whsec_…`); the newest signs, all verify (rotation). */
export interface WebhookSecret {
  readonly secret: string;
  readonly createdAt: string;
  /** Secrets rotated out keep signing alongside the new one until this instant. */
  readonly expiresAt?: string | undefined;
}

/** API keys and tenant secrets. */
export interface KeyStore {
  putKey(record: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  listKeys(tenant?: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (kept for audit); unknown id → KeyNotFoundError. */
  revokeKey(id: string, at: Date): Promise<void>;
  getWebhookSecrets(tenant: string): Promise<WebhookSecret[]>;
  putWebhookSecrets(tenant: string, secrets: WebhookSecret[]): Promise<void>;
}
