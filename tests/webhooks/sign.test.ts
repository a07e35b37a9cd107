import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  activeSecrets,
  generateWebhookSecret,
  rotateWebhookSecrets,
  signWebhook,
} from '../../core/webhooks/sign.ts';

const body = JSON.stringify({ type: 'generation.succeeded', data: { id: 'gen_1' } });
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signatures', () => {
  it('generates whsec_ secrets of 32 random bytes by default, refusing short ones', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
    expect(() => generateWebhookSecret(16)).toThrow(RangeError);
  });

  it('is verified by the official standardwebhooks library', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook([secret], 'msg_abc', nowSeconds(), body);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('fails verification when the body, id or secret differs', () => {
    const secret = generateWebhookSecret();
    const headers = { ...signWebhook([secret], 'msg_abc', nowSeconds(), body) };
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_x' })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('signs with every active secret during rotation, so old and new both verify', () => {
    const now = new Date();
    const old = [{ secret: generateWebhookSecret(), createdAt: '2024-01-01T00:00:00Z' }];
    const rotated = rotateWebhookSecrets(old, now, 3600);
    expect(rotated).toHaveLength(2);
    const signing = activeSecrets(rotated, now);
    const headers = { ...signWebhook(signing, 'msg_rot', nowSeconds(), body) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const { secret } of rotated)
      expect(new Webhook(secret).verify(body, headers)).toBeTruthy();
  });

  it('stops signing with a rotated-out secret once it expires', () => {
    const start = new Date('2025-01-01T00:00:00Z');
    const rotated = rotateWebhookSecrets(
      [{ secret: generateWebhookSecret(), createdAt: '2024-01-01T00:00:00Z' }],
      start,
      3600,
    );
    const [fresh, old] = rotated;
    expect(old?.expiresAt).toBe('2025-01-01T01:00:00.000Z');
    expect(activeSecrets(rotated, new Date('2025-01-01T00:59:59Z'))).toHaveLength(2);
    expect(activeSecrets(rotated, new Date('2025-01-01T01:00:00Z'))).toEqual([fresh?.secret]);
    // A second rotation drops what has already expired.
    expect(rotateWebhookSecrets(rotated, new Date('2025-01-02T00:00:00Z'))).toHaveLength(2);
  });

  it('refuses to sign without a secret or with a mangled one', () => {
    expect(() => signWebhook([], 'msg_1', 0, body)).toThrow(/no webhook secret/);
    expect(() => signWebhook(['whsec_not*base64!'], 'msg_1', 0, body)).toThrow(/not whsec_/);
  });
});
