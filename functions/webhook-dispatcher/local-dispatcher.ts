import type { WebhookEventMessage } from '../../core/generation.ts';
import type { Delivery, MessageQueue } from '../../core/ports/message-queue.ts';
import { DEFAULT_TIMEOUT_MS } from './attempt.ts';
import { dispatchEvent, type DispatchDeps } from './dispatch.ts';

export interface LocalDispatcherOptions extends Omit<DispatchDeps, 'outbox'> {
  readonly outbox: MessageQueue<WebhookEventMessage>;
  /** Long-poll length per receive (seconds); short in tests. */
  readonly waitSeconds?: number | undefined;
  readonly maxMessages?: number | undefined;
  /** How long a received message stays hidden; by default one attempt's timeout plus 30 s. */
  readonly visibilitySeconds?: number | undefined;
  /** Pause after a failed receive before polling again. */
  readonly errorBackoffMs?: number | undefined;
  readonly onError?: ((error: unknown, event?: WebhookEventMessage) => void) | undefined;
}

export interface LocalDispatcher {
  /** Starts polling; aborting `signal` stops like stop() does. Starting twice is a no-op. */
  start(signal?: AbortSignal): void;
  /** Stops polling and waits for in-flight deliveries to finish. */
  stop(): Promise<void>;
  readonly running: boolean;
}

// A function, so that the type checker does not assume the loop condition still holds.
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The outbox consumer for embedded/local mode: the same dispatchEvent as the Lambda, in a loop
 * over any MessageQueue. A message whose dispatch throws is neither deleted nor released: it
 * comes back after its visibility timeout, like an SQS batch item failure.
 */
export function createLocalDispatcher(options: LocalDispatcherOptions): LocalDispatcher {
  let controller: AbortController | undefined;
  let loop: Promise<void> | undefined;
  // Long enough for one attempt (DNS, connect, the timeout) and the log write.
  const visibilitySeconds =
    options.visibilitySeconds ?? Math.ceil((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000) + 30;

  async function handle(delivery: Delivery<WebhookEventMessage>): Promise<void> {
    try {
      await dispatchEvent(delivery.body, options);
      await options.outbox.delete(delivery.receipt);
    } catch (error) {
      options.onError?.(error, delivery.body);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let deliveries: Delivery<WebhookEventMessage>[];
      try {
        deliveries = await options.outbox.receive({
          maxMessages: options.maxMessages ?? 10,
          waitSeconds: options.waitSeconds ?? 20,
          visibilitySeconds,
          signal,
        });
      } catch (error) {
        // A queue may reject an aborted long poll; that is the stop, not an error.
        if (isAborted(signal)) return;
        options.onError?.(error);
        await sleep(options.errorBackoffMs ?? 1000, signal);
        continue;
      }
      await Promise.all(deliveries.map(handle));
    }
  }

  return {
    get running() {
      return loop !== undefined;
    },
    start(signal) {
      if (loop) return;
      const own = new AbortController();
      controller = own;
      if (signal?.aborted) own.abort();
      signal?.addEventListener(
        'abort',
        () => {
          own.abort();
        },
        { once: true },
      );
      loop = run(own.signal).finally(() => {
        loop = undefined;
      });
    },
    async stop() {
      controller?.abort();
      await loop;
    },
  };
}
