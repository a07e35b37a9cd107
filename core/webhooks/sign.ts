import { createHmac, randomBytes } from 'node:crypto';
import { DitserveError } from '../errors.ts';
import type { WebhookSecret } from '../ports/key-store.ts';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the secret's decoded bytes, sent
 * as `v1,<base64>`. During rotation every active secret signs, space-separated, so a receiver
 * holding either the old or the new secret verifies.
 */
export const SECRET_PREFIX = 'whsec_';

export class InvalidWebhookSecretError extends DitserveError {
  readonly code = 'webhook_secret_invalid';
}

/** A fresh secret: `whsec_` + base64 of 24–64 random bytes (32 by default). */
export function generateWebhookSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 64) {
    throw new RangeError('a webhook secret has 24 to 64 random bytes');
  }
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from silently drops bad characters; a round trip catches a mangled secret.
  if (
    key.length === 0 ||
    key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')
  ) {
    throw new InvalidWebhookSecretError('webhook secret is not whsec_ + base64');
  }
  return key;
}

/** The secrets that sign at `now`: not yet expired (a rotated-out secret signs until expiresAt). */
export function activeSecrets(secrets: readonly WebhookSecret[], now: Date): string[] {
  return secrets
    .filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime())
    .map((s) => s.secret);
}

export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestamp}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

export interface SignedHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** The three Standard Webhooks headers; `timestamp` is unix seconds of this attempt. */
export function signWebhook(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): SignedHeaders {
  if (secrets.length === 0) throw new InvalidWebhookSecretError('no webhook secret to sign with');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signatureOf(s, id, timestamp, body)).join(' '),
  };
}

/**
 * The tenant's secrets after a rotation: a new secret first, the old ones still signing for
 * `graceSeconds` (capped at their own expiry), already-expired ones dropped.
 */
export function rotateWebhookSecrets(
  current: readonly WebhookSecret[],
  now: Date,
  graceSeconds = 24 * 3600,
): WebhookSecret[] {
  const graceEnd = now.getTime() + graceSeconds * 1000;
  const kept = current
    .filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime())
    .map((s) => {
      const end = Math.min(graceEnd, s.expiresAt ? Date.parse(s.expiresAt) : graceEnd);
      return { ...s, expiresAt: new Date(end).toISOString() };
    });
  return [{ secret: generateWebhookSecret(), createdAt: now.toISOString() }, ...kept];
}
