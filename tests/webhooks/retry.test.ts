import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
} from '../../functions/webhook-dispatcher/retry.ts';

describe('retry schedule', () => {
  it('draws each delay from (0, cap] with caps 5 s … 8 h, 8 h thereafter', () => {
    const caps = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800];
    caps.forEach((cap, i) => {
      expect(backoffSeconds(i + 1, DEFAULT_RETRY_POLICY, () => 0.999999)).toBe(cap);
      expect(backoffSeconds(i + 1, DEFAULT_RETRY_POLICY, () => 0)).toBe(1);
    });
  });

  it('keeps retrying for at least 24 h even with unlucky jitter (elapsed-time bound)', () => {
    // Mean draw 0.5: count the attempts the default policy makes before 24 h have passed.
    let elapsed = 0;
    let attempt = 0;
    while (elapsed < DEFAULT_RETRY_POLICY.retryForSeconds) {
      attempt++;
      elapsed += backoffSeconds(attempt, DEFAULT_RETRY_POLICY, () => 0.5);
    }
    expect(attempt).toBeGreaterThanOrEqual(12);
    expect(attempt).toBeLessThan(20);
  });

  it('reads Retry-After as seconds or an HTTP date, ignoring junk', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:05:00 GMT', now)).toBe(300);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['7', '9'], now)).toBe(7);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
