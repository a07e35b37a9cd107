import { apiErrorFor, ConnectionError, DitserveError, isRetryableStatus } from './errors.ts';
import type { Problem } from './types.ts';
import { parseRetryAfter, retryDelayMs, sleep, type RetryOptions } from './retry.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Told before every retry: what failed and how long the client waits (for logs and metrics). */
export interface RetryInfo {
  readonly method: string;
  readonly path: string;
  /** 1 for the first retry. */
  readonly retry: number;
  readonly delayMs: number;
  readonly error: DitserveError;
}

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly fetch: FetchLike;
  readonly retry: Required<RetryOptions>;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  readonly accept?: string;
}

async function problemOf(response: Response): Promise<Partial<Problem> | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    // Not ours (a proxy's page): drop it, so the connection is free for the retry.
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  try {
    return (await response.json()) as Partial<Problem>;
  } catch {
    return undefined;
  }
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

/**
 * One API call with bounded retries: the same request (headers included, so an
 * Idempotency-Key stays the same) is sent again after a network error, 408, 429 or 5xx, waiting
 * what `Retry-After` asks or a jittered backoff. Answers a 2xx Response; throws a typed error.
 */
export async function send(
  transport: TransportOptions,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = {
    accept: options.accept ?? 'application/json',
    ...(transport.apiKey === undefined ? {} : { authorization: `Bearer ${transport.apiKey}` }),
    ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const policy = transport.retry;
  const signal = options.signal;
  for (let retry = 0; ; retry++) {
    let error: DitserveError;
    let retryAfterMs: number | undefined;
    try {
      const response = await transport.fetch(`${transport.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(signal ? { signal } : {}),
      });
      if (response.ok) return response;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      error = apiErrorFor({
        status: response.status,
        problem: await problemOf(response),
        requestId: response.headers.get('x-request-id') ?? undefined,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : retryAfterMs / 1000,
      });
      if (!isRetryableStatus(response.status)) throw error;
    } catch (thrown) {
      if (thrown instanceof DitserveError) throw thrown;
      if (isAbort(thrown, signal)) throw thrown;
      error = new ConnectionError(
        `${method} ${path}: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        { cause: thrown },
      );
    }
    if (retry >= policy.maxRetries) throw error;
    if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) throw error;
    const delayMs = retryDelayMs(retry + 1, retryAfterMs, policy);
    transport.onRetry?.({ method, path, retry: retry + 1, delayMs, error });
    await sleep(delayMs, signal);
  }
}

export async function sendJson<T>(
  transport: TransportOptions,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  return (await (await send(transport, path, options)).json()) as T;
}
