import type { WebhookEventMessage } from '../../core/generation.ts';
import type { KeyStore } from '../../core/ports/key-store.ts';
import { webhookBody } from '../../core/webhooks/events.ts';
import { activeSecrets, signWebhook } from '../../core/webhooks/sign.ts';
import { WebhookUrlRefusedError, type WebhookUrlPolicy } from '../../core/webhooks/url-policy.ts';
import { postPinned } from './http-post.ts';
import { parseRetryAfter } from './retry.ts';
import { resolveWebhookTarget, type Resolver } from './ssrf.ts';

/** What one POST attempt came to, before any retry decision. */
export interface AttemptResult {
  /** ok: 2xx. gone: 410, the receiver wants no more. refused: the URL or its address is not allowed. */
  readonly kind: 'ok' | 'gone' | 'refused' | 'failed';
  readonly statusCode?: number | undefined;
  readonly error?: string | undefined;
  /** From Retry-After on a 429 or 503. */
  readonly retryAfterSeconds?: number | undefined;
  readonly durationMs: number;
}

export interface AttemptDeps {
  readonly keys: Pick<KeyStore, 'getWebhookSecrets'>;
  readonly policy?: WebhookUrlPolicy | undefined;
  readonly resolver?: Resolver | undefined;
  /** Whole-exchange limit per attempt; 10 s by default. */
  readonly timeoutMs?: number | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

function classify(statusCode: number): AttemptResult['kind'] {
  if (statusCode >= 200 && statusCode < 300) return 'ok';
  if (statusCode === 410) return 'gone';
  return 'failed';
}

/** Signs `event` with the tenant's active secrets and POSTs it once, to a pinned, checked address. */
export async function attemptDelivery(
  event: WebhookEventMessage,
  deps: AttemptDeps,
  now: Date,
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  try {
    const secrets = activeSecrets(await deps.keys.getWebhookSecrets(event.tenant), now);
    const body = webhookBody(event);
    const headers = signWebhook(secrets, event.id, Math.floor(now.getTime() / 1000), body);
    const target = await resolveWebhookTarget(event.url, deps.policy ?? {}, deps.resolver);
    const res = await postPinned(
      target,
      { ...headers },
      body,
      deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    const retryAfter =
      res.statusCode === 429 || res.statusCode === 503
        ? parseRetryAfter(res.headers['retry-after'], now)
        : undefined;
    const redirect = res.statusCode >= 300 && res.statusCode < 400;
    return {
      kind: classify(res.statusCode),
      statusCode: res.statusCode,
      ...(redirect ? { error: 'redirect not followed' } : {}),
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      durationMs: elapsed(),
    };
  } catch (error) {
    const kind = error instanceof WebhookUrlRefusedError ? 'refused' : 'failed';
    return { kind, error: (error as Error).message, durationMs: elapsed() };
  }
}
