import { setTimeout as sleep } from 'node:timers/promises';

/** One HTTP attempt's outcome, for the request's history. */
export type AttemptOutcome = number | `network:${string}`;

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
  /** Every attempt's status (or network error) in order, the last one answered. */
  readonly history: readonly AttemptOutcome[];
}

/** A request that never got an answer worth keeping: every attempt failed until the deadline. */
export class GaveUpError extends Error {
  constructor(
    message: string,
    readonly history: readonly AttemptOutcome[],
  ) {
    super(message);
  }
}

export interface ClientOptions {
  readonly baseUrl: string;
  /** Requests per second the client allows itself (the API limits a tenant to 10 with burst 20). */
  readonly requestsPerSecond?: number | undefined;
  /** How long one logical request keeps retrying. @default 180_000 */
  readonly retryForMs?: number | undefined;
  /** One attempt's timeout. @default 30_000 */
  readonly attemptTimeoutMs?: number | undefined;
  readonly random?: (() => number) | undefined;
}

/**
 * What a careful real client does: paces itself, and retries network errors, 5xx and 429
 * (honouring Retry-After) with jittered exponential backoff until a deadline. Callers send an
 * Idempotency-Key on submits so that a retry after a lost answer cannot create a second job.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #interval: number;
  readonly #retryForMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #random: () => number;
  #nextSlot = 0;
  /** Every attempt the client made: answered statuses and network errors. */
  readonly attempts: Record<string, number> = {};

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl;
    this.#interval = 1000 / (options.requestsPerSecond ?? 6);
    this.#retryForMs = options.retryForMs ?? 180_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  /** Waits for this request's turn under the client's own rate. */
  async #pace(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + this.#interval;
    if (slot > now) await sleep(slot - now);
  }

  #count(outcome: AttemptOutcome): void {
    const key = String(outcome);
    this.attempts[key] = (this.attempts[key] ?? 0) + 1;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    options: {
      readonly body?: unknown;
      readonly headers?: Record<string, string>;
      /** Statuses returned as they are instead of retried (e.g. 409 on cancel). */
      readonly retry?: (status: number) => boolean;
    } = {},
  ): Promise<ApiResponse<T>> {
    const history: AttemptOutcome[] = [];
    const deadline = Date.now() + this.#retryForMs;
    const retryable = options.retry ?? ((s: number) => s >= 500 || s === 429);
    for (let attempt = 0; ; attempt++) {
      await this.#pace();
      let waitMs = Math.min(4000, 250 * 2 ** Math.min(attempt, 5)) * (0.5 + this.#random());
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
          signal: AbortSignal.timeout(this.#attemptTimeoutMs),
        });
        const text = await res.text();
        history.push(res.status);
        this.#count(res.status);
        if (!retryable(res.status)) {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = text;
          }
          return { status: res.status, body: body as T, headers: res.headers, history };
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (res.status === 429 && Number.isFinite(retryAfter) && retryAfter > 0) {
          waitMs = Math.max(waitMs, retryAfter * 1000);
        }
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        const outcome: AttemptOutcome = `network:${cause?.code ?? (error as Error).name}`;
        history.push(outcome);
        this.#count(outcome);
      }
      if (Date.now() + waitMs > deadline) {
        throw new GaveUpError(`${method} ${path}: no usable answer in time`, history);
      }
      await sleep(waitMs);
    }
  }
}
