/**
 * Keeps `generation.progress` webhooks rare: a receiver gets at most one per interval per job,
 * however fast the sampler steps (SSE readers get every update; webhooks cost a POST each).
 * The final step is never announced: `generation.succeeded` follows at once.
 */
export class ProgressThrottle {
  readonly #last = new Map<string, number>();
  readonly #intervalMs: number;

  constructor(intervalMs = 5000) {
    this.#intervalMs = intervalMs;
  }

  /** True when a progress event for `jobId` should go out now (and records that it did). */
  take(jobId: string, step: number, total: number, now: Date = new Date()): boolean {
    if (step >= total) return false;
    const last = this.#last.get(jobId);
    if (last !== undefined && now.getTime() - last < this.#intervalMs) return false;
    this.#last.set(jobId, now.getTime());
    return true;
  }

  /** Forget a finished job. */
  done(jobId: string): void {
    this.#last.delete(jobId);
  }
}
