import type { MessageQueue } from '../../../core/ports/message-queue.ts';

/**
 * Keeps in-flight messages invisible while their jobs run: every `visibilitySeconds / 3` it
 * extends each receipt by `visibilitySeconds`, so a live worker never loses its work to the
 * visibility timeout, and a dead one loses it at most `visibilitySeconds` later.
 */
export class Heartbeat {
  readonly #receipts = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    queue: MessageQueue<unknown>,
    visibilitySeconds: number,
    onError: (error: unknown) => void,
  ) {
    this.#timer = setInterval(
      () => {
        for (const receipt of this.#receipts) {
          queue.extend(receipt, visibilitySeconds).catch(onError);
        }
      },
      Math.max(200, (visibilitySeconds * 1000) / 3),
    );
    this.#timer.unref();
  }

  add(receipt: string): void {
    this.#receipts.add(receipt);
  }

  remove(receipt: string): void {
    this.#receipts.delete(receipt);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#receipts.clear();
  }
}
