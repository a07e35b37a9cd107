import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, KeyStore } from '../ports/key-store.ts';

/**
 * API keys look like `dsk_<id>_<secret>`: the id (public, 12 hex chars) finds the record in one
 * read, the secret (32 random bytes, base64url) is never stored, only SHA-256 of the whole key.
 * A fast hash is right here: the secret has 256 bits of entropy, so there is nothing to brute
 * force, and the check runs on every request.
 */
const KEY_PATTERN = /^dsk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface IssuedKey {
  readonly record: ApiKeyRecord;
  /** Shown once to whoever created it; ditserve cannot show it again. */
  readonly key: string;
}

export async function issueApiKey(
  keys: KeyStore,
  tenant: string,
  name: string,
  now = new Date(),
): Promise<IssuedKey> {
  const id = randomBytes(6).toString('hex');
  const key = `dsk_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    tenant,
    name,
    hash: hashApiKey(key),
    createdAt: now.toISOString(),
  };
  await keys.putKey(record);
  return { record, key };
}

/** The live record a presented key belongs to, or undefined (malformed, unknown, revoked, wrong). */
export async function verifyApiKey(
  keys: KeyStore,
  presented: string,
): Promise<ApiKeyRecord | undefined> {
  const match = KEY_PATTERN.exec(presented);
  if (!match?.[1]) return undefined;
  const record = await keys.getKey(match[1]);
  if (!record || record.revokedAt) return undefined;
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(hashApiKey(presented), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual)
    ? record
    : undefined;
}
