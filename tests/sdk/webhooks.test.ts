import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook } from '../../core/webhooks/sign.ts';
import {
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from '../../sdk/webhooks/index.ts';

const EVENT = {
  type: 'generation.succeeded',
  timestamp: '2026-01-01T00:00:05.000Z',
  data: {
    id: 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B',
    object: 'generation',
    status: 'succeeded',
    model: 'shapes-mmdit-s',
    outputs: [
      { index: 0, seed: 42, content_type: 'image/png', bytes: 1234, width: 128, height: 128 },
    ],
    timings: { created_at: '2026-01-01T00:00:00.000Z' },
  },
} as const;
const BODY = JSON.stringify(EVENT);
const AT = new Date('2026-01-01T00:00:10.000Z');
const SECONDS = Math.floor(AT.getTime() / 1000);

/** Headers as the standardwebhooks package (the reference signer) makes them. */
function signed(secret: string, body = BODY, at = AT, id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W') {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

async function reason(run: Promise<unknown>): Promise<WebhookVerificationReason | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return error.reason;
  }
}

describe('verifyWebhook', () => {
  const secret = generateWebhookSecret();

  it('accepts what standardwebhooks signs and returns the typed event', async () => {
    const event = await verifyWebhook(BODY, signed(secret), secret, { now: AT });
    expect(event).toEqual(EVENT);
    expect(event.data.outputs?.[0]?.seed).toBe(42);
  });

  it('takes fetch Headers, any header case, and the raw body as bytes', async () => {
    const headers = signed(secret);
    const fetchHeaders = new Headers(headers);
    const shouting = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]),
    );
    const bytes = new TextEncoder().encode(BODY);
    for (const [body, h] of [
      [BODY, fetchHeaders],
      [bytes, shouting],
      [bytes.buffer, headers],
    ] as const) {
      expect(await verifyWebhook(body, h, [secret], { now: AT })).toEqual(EVENT);
    }
  });

  it('refuses a tampered body, id or timestamp', async () => {
    const headers = signed(secret);
    expect(await reason(verifyWebhook(`${BODY} `, headers, secret, { now: AT }))).toBe(
      'no_matching_signature',
    );
    expect(
      await reason(verifyWebhook(BODY.replace('42', '43'), headers, secret, { now: AT })),
    ).toBe('no_matching_signature');
    expect(
      await reason(
        verifyWebhook(BODY, { ...headers, 'webhook-id': 'msg_other' }, secret, { now: AT }),
      ),
    ).toBe('no_matching_signature');
    const later = { ...headers, 'webhook-timestamp': String(SECONDS + 1) };
    expect(await reason(verifyWebhook(BODY, later, secret, { now: AT }))).toBe(
      'no_matching_signature',
    );
  });

  it('refuses a stale or future timestamp outside the tolerance, accepts one inside', async () => {
    const old = signed(secret, BODY, new Date(AT.getTime() - 301_000));
    expect(await reason(verifyWebhook(BODY, old, secret, { now: AT }))).toBe('timestamp_too_old');
    const future = signed(secret, BODY, new Date(AT.getTime() + 301_000));
    expect(await reason(verifyWebhook(BODY, future, secret, { now: AT }))).toBe(
      'timestamp_too_new',
    );
    expect(await verifyWebhook(BODY, old, secret, { now: AT, toleranceSeconds: 600 })).toEqual(
      EVENT,
    );
    const edge = signed(secret, BODY, new Date(AT.getTime() - 300_000));
    expect(await verifyWebhook(BODY, edge, secret, { now: AT })).toEqual(EVENT);
  });

  it('verifies across a rotation: any of several secrets, any of several signatures', async () => {
    const old = generateWebhookSecret();
    const fresh = generateWebhookSecret();
    const stranger = generateWebhookSecret();
    // A receiver that already has the new secret, for events still signed by the old one.
    expect(await verifyWebhook(BODY, signed(old), [fresh, old], { now: AT })).toEqual(EVENT);
    // ditserve signs with every active secret during the grace period (core/webhooks/sign.ts).
    const both = signWebhook([fresh, old], 'msg_rotating', SECONDS, BODY);
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    for (const receiverHas of [[old], [fresh], [stranger, fresh]]) {
      expect(await verifyWebhook(BODY, both, receiverHas, { now: AT })).toEqual(EVENT);
    }
    expect(await reason(verifyWebhook(BODY, both, [stranger], { now: AT }))).toBe(
      'no_matching_signature',
    );
  });

  it('says why a request is not a webhook at all', async () => {
    const headers = signed(secret);
    const unsigned = { 'webhook-id': headers['webhook-id'], 'webhook-timestamp': 'x' };
    expect(await reason(verifyWebhook(BODY, unsigned, secret, { now: AT }))).toBe('missing_header');
    expect(
      await reason(
        verifyWebhook(BODY, { ...headers, 'webhook-timestamp': 'yesterday' }, secret, { now: AT }),
      ),
    ).toBe('invalid_timestamp');
    expect(await reason(verifyWebhook(BODY, headers, 'whsec_***', { now: AT }))).toBe(
      'invalid_secret',
    );
    const v2 = {
      ...headers,
      'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,'),
    };
    expect(await reason(verifyWebhook(BODY, v2, secret, { now: AT }))).toBe(
      'no_matching_signature',
    );
    const notJson = 'not json';
    expect(await reason(verifyWebhook(notJson, signed(secret, notJson), secret, { now: AT }))).toBe(
      'invalid_body',
    );
  });

  it('agrees with standardwebhooks on any body: genuine verifies, one flipped byte does not', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.nat({ max: 10_000 }), async (value, flipAt) => {
        const body = JSON.stringify({ type: 'generation.progress', data: value });
        const headers = signed(secret, body);
        expect(await verifyWebhook(body, headers, secret, { now: AT })).toEqual(JSON.parse(body));
        const bytes = new TextEncoder().encode(body);
        const i = flipAt % bytes.length;
        bytes[i] = (bytes[i] ?? 0) ^ 1;
        expect(await reason(verifyWebhook(bytes, headers, secret, { now: AT }))).toBe(
          'no_matching_signature',
        );
      }),
      { numRuns: 50 },
    );
  });
});
