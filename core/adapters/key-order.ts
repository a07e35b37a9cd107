import type { ApiKeyRecord } from '../ports/key-store.ts';

/** Oldest first (createdAt, then id): the order every KeyStore lists keys in. */
export function byCreation(a: ApiKeyRecord, b: ApiKeyRecord): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}
