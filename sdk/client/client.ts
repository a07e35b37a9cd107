import { DitserveError, generationErrorFor } from './errors.ts';
import { followGeneration, isTerminal } from './follow.ts';
import { send, sendJson, type FetchLike, type RetryInfo, type TransportOptions } from './http.ts';
import { DEFAULT_RETRY, type RetryOptions } from './retry.ts';
import type {
  GenerateParams,
  Generation,
  GenerationEvent,
  GenerationPage,
  ListParams,
  Model,
  WebhookSecrets,
} from './types.ts';

export interface DitserveOptions {
  /** The deployment's origin, e.g. `http://127.0.0.1:8080` (a trailing `/v1` is accepted). */
  readonly baseUrl: string;
  /** `dsk_…`; leave it out for a local server in open mode (loopback, no keys). */
  readonly apiKey?: string | undefined;
  /** A fetch to use instead of the global one (a proxy agent, instrumentation, tests). */
  readonly fetch?: FetchLike | undefined;
  readonly retry?: RetryOptions | undefined;
  /** Called before each retry with what failed and the wait. */
  readonly onRetry?: ((info: RetryInfo) => void) | undefined;
  /** How often `wait`/`events` poll when the server cannot stream. @default 1000 */
  readonly pollIntervalMs?: number | undefined;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface SubmitOptions extends CallOptions {
  /**
   * Same key + same body → the same generation, so a retried submit never runs twice. The
   * client makes one per submit (kept across its own retries); pass yours to make retries of
   * your own (a restarted process) safe too.
   */
  readonly idempotencyKey?: string | undefined;
}

export interface WaitOptions extends CallOptions {
  /** Every status change and new step, the last one terminal. */
  readonly onProgress?: ((event: GenerationEvent) => void) | undefined;
}

export type GenerateOptions = SubmitOptions & WaitOptions;

/**
 * The typed ditserve client: fetch and web streams only, so it runs on Node ≥ 20, in browsers
 * and in edge runtimes. See docs/client.md.
 */
export class Ditserve {
  readonly #transport: TransportOptions;
  readonly #pollIntervalMs: number;

  constructor(options: DitserveOptions) {
    this.#transport = {
      baseUrl: options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, ''),
      apiKey: options.apiKey,
      // Called through globalThis: browsers reject a fetch detached from its window.
      fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      retry: { ...DEFAULT_RETRY, ...options.retry },
      onRetry: options.onRetry,
    };
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
  }

  /** Submits and follows the generation to its end: the finished one, or a typed error. */
  async generate(params: GenerateParams, options: GenerateOptions = {}): Promise<Generation> {
    const submitted = await this.submit(params, options);
    if (isTerminal(submitted)) {
      options.onProgress?.({ type: 'status', generation: submitted });
      return succeeded(submitted);
    }
    return this.wait(submitted.id, options);
  }

  /** Creates a generation (202, queued) with an Idempotency-Key. */
  submit(params: GenerateParams, options: SubmitOptions = {}): Promise<Generation> {
    return sendJson<Generation>(this.#transport, '/v1/generations', {
      method: 'POST',
      body: params,
      headers: { 'idempotency-key': options.idempotencyKey ?? newIdempotencyKey() },
      signal: options.signal,
    });
  }

  get(id: string, options: CallOptions = {}): Promise<Generation> {
    return sendJson<Generation>(this.#transport, `/v1/generations/${encodeURIComponent(id)}`, {
      signal: options.signal,
    });
  }

  /** Pages of your generations, newest first, following `next_cursor` until the last page. */
  async *list(
    params: ListParams = {},
    options: CallOptions = {},
  ): AsyncGenerator<GenerationPage, void, undefined> {
    let cursor = params.cursor;
    for (;;) {
      const query = new URLSearchParams();
      if (params.limit !== undefined) query.set('limit', String(params.limit));
      if (params.status !== undefined) query.set('status', params.status);
      if (cursor !== undefined) query.set('cursor', cursor);
      const search = query.toString() === '' ? '' : `?${query.toString()}`;
      const page = await sendJson<GenerationPage>(this.#transport, `/v1/generations${search}`, {
        signal: options.signal,
      });
      yield page;
      if (!page.has_more || page.next_cursor === undefined) return;
      cursor = page.next_cursor;
    }
  }

  /** Cancels at once when queued, at the next step when running (`cancel_requested`). */
  cancel(id: string, options: CallOptions = {}): Promise<Generation> {
    return sendJson<Generation>(
      this.#transport,
      `/v1/generations/${encodeURIComponent(id)}/cancel`,
      { method: 'POST', signal: options.signal },
    );
  }

  /** Status and progress updates until the generation ends (SSE, else polling). */
  events(id: string, options: CallOptions = {}): AsyncGenerator<GenerationEvent> {
    return followGeneration(this.#transport, id, {
      signal: options.signal,
      pollIntervalMs: this.#pollIntervalMs,
    });
  }

  /** Follows a generation to its end: the finished one, or GenerationFailedError & co. */
  async wait(id: string, options: WaitOptions = {}): Promise<Generation> {
    let last: Generation | undefined;
    for await (const event of this.events(id, options)) {
      options.onProgress?.(event);
      last = event.generation;
    }
    // events() returns only after a terminal status; a missing one is the server's fault.
    return succeeded(last ?? (await this.get(id, options)));
  }

  async models(options: CallOptions = {}): Promise<Model[]> {
    const list = await sendJson<{ data: Model[] }>(this.#transport, '/v1/models', {
      signal: options.signal,
    });
    return list.data;
  }

  /** The webhook signing secret (`whsec_…`, made on first use) and rotated-out ones still signing. */
  webhookSecret(options: CallOptions = {}): Promise<WebhookSecrets> {
    return sendJson<WebhookSecrets>(this.#transport, '/v1/webhooks/secret', {
      signal: options.signal,
    });
  }

  /** Any other route of the API, with the same auth, retries and typed errors. */
  request(path: string, init: { method?: 'GET' | 'POST'; body?: unknown } & CallOptions = {}) {
    return send(this.#transport, path, init);
  }
}

/**
 * A random UUID (v4). Browsers offer `crypto.randomUUID` only on https and localhost pages;
 * `getRandomValues` works everywhere.
 */
export function newIdempotencyKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function succeeded(generation: Generation): Generation {
  if (generation.status === 'succeeded') return generation;
  if (isTerminal(generation)) throw generationErrorFor(generation);
  throw new DitserveError(`generation ${generation.id} is still ${generation.status}`);
}
