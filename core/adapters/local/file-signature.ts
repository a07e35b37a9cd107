import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 over the key and the expiry (unix seconds), base64url. */
export function signFile(secret: string, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`, 'utf8').digest('base64url');
}

/**
 * True when `/v1/files/{key}?expires=&sig=` was signed with `secret` and has not expired (a
 * boolean, not a verdict string, so that `if (!verify(...))` can never pass a forged URL). The
 * comparison is constant-time.
 */
export function verifyFileSignature(
  secret: string,
  key: string,
  expires: string | number,
  sig: string,
  now: Date = new Date(),
): boolean {
  const expiresAt =
    typeof expires === 'number' ? expires : /^\d+$/.test(expires) ? Number(expires) : NaN;
  if (!Number.isSafeInteger(expiresAt) || now.getTime() >= expiresAt * 1000) return false;
  const expected = Buffer.from(signFile(secret, key, expiresAt));
  const actual = Buffer.from(sig);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
