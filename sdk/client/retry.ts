/** How the client sends a request again after 429, 5xx or a network error. */
export interface RetryOptions {
  /** Retries after the first attempt (0 = none). @default 2 */
  readonly maxRetries?: number;
  /** First backoff ceiling; it doubles each retry (full jitter below it). @default 500 */
  readonly baseDelayMs?: number;
  /** Largest backoff ceiling without `Retry-After`. @default 8000 */
  readonly maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits out; a longer one is not retried and the error
   * (e.g. RateLimitError with `retryAfterSeconds`) is thrown at once. @default 60000
   */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
};

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` (1-based): what `Retry-After` asks for when the server
 * sent it (the server knows when capacity returns; jitter would only make the client early),
 * else exponential backoff with full jitter, so many clients do not retry in step.
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | undefined,
  options: Required<RetryOptions>,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
