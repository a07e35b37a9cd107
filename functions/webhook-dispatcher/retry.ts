/**
 * When to try a failed webhook again. Each step's delay is drawn uniformly from (0, cap] ("full
 * jitter", so a receiver that comes back after an outage is not hit by every event at once),
 * with caps 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then 8 h for good. Giving up is
 * decided by elapsed time, not by count, so jitter can never cut the promised 24 h short.
 */
export interface RetryPolicy {
  /** Upper bounds of successive delays, in seconds; the last one repeats. */
  readonly capsSeconds: readonly number[];
  /** Keep retrying while the first attempt is younger than this. */
  readonly retryForSeconds: number;
  /** Longest Retry-After honoured (a receiver cannot park an event for a week). */
  readonly maxRetryAfterSeconds: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  capsSeconds: [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800],
  retryForSeconds: 24 * 3600,
  maxRetryAfterSeconds: 28800,
};

/** Delay before the retry that follows failed attempt number `attempt` (1-based). */
export function backoffSeconds(
  attempt: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const caps = policy.capsSeconds;
  const cap = caps[Math.min(attempt, caps.length) - 1] ?? caps.at(-1) ?? 60;
  return Math.max(1, Math.ceil(random() * cap));
}

/**
 * Seconds a `Retry-After` header asks for: delta-seconds or an HTTP-date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable, so the normal backoff applies.
 */
export function parseRetryAfter(
  header: string | readonly string[] | undefined,
  now: Date,
): number | undefined {
  const value = typeof header === 'string' ? header : header?.[0];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Date.parse reads '-5' or '2025' as years; an HTTP-date always names its weekday and month.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}
