import type { KeyStore } from '../../../core/ports/key-store.ts';
import {
  activeSecrets,
  generateWebhookSecret,
  rotateWebhookSecrets,
} from '../../../core/webhooks/sign.ts';

/** The tenant's signing secrets, creating the first one on demand (webhooks need one to sign). */
export async function ensureWebhookSecret(
  keys: KeyStore,
  tenant: string,
  now: Date,
): Promise<string[]> {
  const current = activeSecrets(await keys.getWebhookSecrets(tenant), now);
  if (current.length > 0) return current;
  const fresh = [{ secret: generateWebhookSecret(), createdAt: now.toISOString() }];
  await keys.putWebhookSecrets(tenant, fresh);
  return fresh.map((s) => s.secret);
}

/** A new secret signs from now on; the old ones keep signing for `graceSeconds` alongside it. */
export async function rotateWebhookSecret(
  keys: KeyStore,
  tenant: string,
  now: Date,
  graceSeconds: number,
): Promise<string[]> {
  const next = rotateWebhookSecrets(await keys.getWebhookSecrets(tenant), now, graceSeconds);
  await keys.putWebhookSecrets(tenant, next);
  return activeSecrets(next, now);
}
