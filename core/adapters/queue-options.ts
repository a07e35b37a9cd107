import type { ReceiveOptions } from '../ports/message-queue.ts';

/** SQS limits, applied by every adapter so that local runs behave like AWS. */
export const MAX_BATCH = 10;
export const MAX_WAIT_SECONDS = 20;
export const MAX_DELAY_SECONDS = 900;
export const MAX_VISIBILITY_SECONDS = 43_200;
export const DEFAULT_VISIBILITY_SECONDS = 30;

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(value)));
}

export interface ResolvedReceive {
  readonly maxMessages: number;
  readonly waitMs: number;
  readonly visibilityMs: number;
}

export function resolveReceive(
  options: ReceiveOptions,
  defaultVisibilitySeconds: number,
): ResolvedReceive {
  return {
    maxMessages: clamp(options.maxMessages ?? 1, 1, MAX_BATCH),
    waitMs: clamp(options.waitSeconds ?? 0, 0, MAX_WAIT_SECONDS) * 1000,
    visibilityMs:
      clamp(options.visibilitySeconds ?? defaultVisibilitySeconds, 0, MAX_VISIBILITY_SECONDS) *
      1000,
  };
}

export function delayMs(delaySeconds: number | undefined): number {
  return clamp(delaySeconds ?? 0, 0, MAX_DELAY_SECONDS) * 1000;
}

export function visibilityMs(seconds: number): number {
  return clamp(seconds, 0, MAX_VISIBILITY_SECONDS) * 1000;
}

/**
 * Resolves after `ms`, when the callback handed to `onWake` is called, or when `signal` aborts,
 * whichever comes first; the long poll of the memory and filesystem queues sleeps on it.
 * `onWake` registers the wake callback and returns its unregistration.
 */
export function sleep(
  ms: number,
  signal?: AbortSignal,
  onWake?: (wake: () => void) => () => void,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const cleanups: (() => void)[] = [];
    const done = (): void => {
      for (const cleanup of cleanups) cleanup();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    cleanups.push(() => {
      clearTimeout(timer);
    });
    signal?.addEventListener('abort', done, { once: true });
    cleanups.push(() => {
      signal?.removeEventListener('abort', done);
    });
    if (onWake) cleanups.push(onWake(done));
  });
}
