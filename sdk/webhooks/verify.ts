import type { WebhookEventBody } from '../../core/webhooks/events.ts';

/** A verified webhook body: `{type, timestamp, data}`, data shaped like the API's Generation. */
export type WebhookEvent = WebhookEventBody;
export type WebhookEventType = WebhookEventBody['type'];

export type WebhookVerificationReason =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'invalid_secret'
  | 'no_matching_signature'
  | 'invalid_body';

/** The request is not a genuine, fresh ditserve webhook; `reason` says why. Answer it 4xx. */
export class WebhookVerificationError extends Error {
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

/** Fetch's Headers, Node's IncomingHttpHeaders, or a plain map of header names to values. */
export type WebhookHeaders =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | {
      readonly 'webhook-id'?: string;
      readonly 'webhook-timestamp'?: string;
      readonly 'webhook-signature'?: string;
    };

export interface VerifyOptions {
  /** How far `webhook-timestamp` may be from now, either way (replay window). @default 300 */
  readonly toleranceSeconds?: number | undefined;
  /** The current time, for tests and for receivers that verify queued requests later. */
  readonly now?: Date | undefined;
}

const SECRET_PREFIX = 'whsec_';

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return typeof value === 'string' ? value : value?.join(' ');
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

function bodyBytes(rawBody: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof rawBody === 'string') return new TextEncoder().encode(rawBody);
  return rawBody instanceof Uint8Array ? rawBody : new Uint8Array(rawBody);
}

/** Web Crypto's key type, named through the API (the DOM lib is not loaded here). */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function hmacKey(secret: string): Promise<HmacKey> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const bytes = base64Bytes(encoded);
  if (!bytes || bytes.length === 0) {
    throw new WebhookVerificationError('invalid_secret', 'a webhook secret is not whsec_ + base64');
  }
  return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
}

/**
 * Verifies a ditserve webhook (Standard Webhooks) and returns its event. `rawBody` must be the
 * bytes as received, before any JSON parsing. Every `v1,` signature in `webhook-signature` is
 * tried against every secret you pass, so both sides of a rotation verify; the comparison is
 * `crypto.subtle.verify` (constant time), so this runs on Node ≥ 20, Deno, Bun and edge runtimes.
 * Throws WebhookVerificationError: answer 400/401 and the sender retries.
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): Promise<WebhookEvent> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      'missing_header',
      'webhook-id, webhook-timestamp and webhook-signature are all required',
    );
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError(
      'invalid_timestamp',
      'webhook-timestamp is not unix seconds',
    );
  }
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const age = now - Number(timestamp);
  if (age > tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `webhook-timestamp is ${age} s old (tolerance ${tolerance} s)`,
    );
  }
  if (age < -tolerance) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `webhook-timestamp is ${-age} s in the future (tolerance ${tolerance} s)`,
    );
  }

  const body = bodyBytes(rawBody);
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const candidates = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => base64Bytes(s.slice(3)))
    .filter((s) => s !== undefined);
  const keys = await Promise.all((typeof secrets === 'string' ? [secrets] : secrets).map(hmacKey));
  for (const key of keys) {
    for (const signature of candidates) {
      if (await crypto.subtle.verify('HMAC', key, signature, signed)) return parse(body);
    }
  }
  throw new WebhookVerificationError(
    'no_matching_signature',
    'no webhook-signature matches the body with any of the secrets',
  );
}

function parse(body: Uint8Array): WebhookEvent {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the signed body is not JSON');
  }
}
