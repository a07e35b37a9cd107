/**
 * The images a worker has on its sampler at once, and the groups waiting for room. A group
 * starts once its images fit next to those running, in arrival order (a later, smaller group
 * does not overtake, so a large one is never starved); a group larger than the whole capacity
 * runs alone. A group that asks for the whole capacity runs alone too: static batching.
 */
export class ImageSlots {
  readonly #capacity: number;
  #used = 0;
  readonly #waiting: { readonly images: number; readonly grant: (started: boolean) => void }[] = [];
  readonly #watchers = new Set<() => void>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Images that may still start now. */
  get free(): number {
    return Math.max(0, this.#capacity - this.#used);
  }

  /** Resolves true once `images` may start, or false if `signal` fires first. */
  acquire(images: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(false);
        this.#admit();
      };
      const entry = {
        images,
        grant: (started: boolean) => {
          signal.removeEventListener('abort', onAbort);
          resolve(started);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
      this.#admit();
    });
  }

  release(images: number): void {
    this.#used -= images;
    this.#admit();
  }

  /**
   * Resolves once there is room for more work — free images and no group waiting — or `signal`
   * fires: receiving more while a group waits would only hold messages another worker could run.
   */
  room(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!signal.aborted && (this.free === 0 || this.#waiting.length > 0)) return;
        this.#watchers.delete(check);
        signal.removeEventListener('abort', check);
        resolve();
      };
      this.#watchers.add(check);
      signal.addEventListener('abort', check, { once: true });
      check();
    });
  }

  #admit(): void {
    for (let next = this.#waiting[0]; next; next = this.#waiting[0]) {
      if (this.#used > 0 && this.#used + next.images > this.#capacity) break;
      this.#waiting.shift();
      this.#used += next.images;
      next.grant(true);
    }
    this.#changed();
  }

  #changed(): void {
    for (const check of [...this.#watchers]) check();
  }
}
