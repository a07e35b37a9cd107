import type { FieldError, Generation, Problem } from './types.ts';

/** The root of every error the client throws on purpose; `instanceof` works across them. */
export class DitserveError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No HTTP answer at all (DNS, refused connection, reset), after the retries ran out. */
export class ConnectionError extends DitserveError {}

export interface ApiErrorInit {
  readonly status: number;
  readonly problem: Partial<Problem> | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;
}

/** HTTP statuses worth sending again unchanged (the server was busy or briefly down). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}

/**
 * The API answered with an error: the problem document's stable `code`, every field it
 * complained about (`fieldErrors`), and whether sending the same request again may work.
 */
export class ApiError extends DitserveError {
  readonly status: number;
  readonly code: string;
  readonly fieldErrors: readonly FieldError[];
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  /** The whole problem document, when the answer was one. */
  readonly problem: Partial<Problem> | undefined;

  constructor(init: ApiErrorInit) {
    const { status, problem } = init;
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? `http_${status}`;
    this.fieldErrors = problem?.errors ?? [];
    this.retryable = isRetryableStatus(status);
    this.requestId = problem?.request_id ?? init.requestId;
    this.problem = problem;
  }
}

/** 400, 413, 415, 422: the request breaks the contract; `fieldErrors` says where. */
export class ValidationError extends ApiError {}
/** 401, 403: no key, a wrong or revoked key, or an expired file URL. */
export class AuthError extends ApiError {}
/** 404: no such generation or model for this key's tenant. */
export class NotFoundError extends ApiError {}
/** 409: e.g. canceling a finished generation, an Idempotency-Key reused with another body. */
export class ConflictError extends ApiError {}
/** 429: the rate limit or the queued-job limit; `retryAfterSeconds` from `Retry-After`. */
export class RateLimitError extends ApiError {
  readonly retryAfterSeconds: number | undefined;
  constructor(init: ApiErrorInit) {
    super(init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}
/** 5xx: the deployment's fault or state. */
export class ServerError extends ApiError {}

/** The error class for an HTTP error status. */
export function apiErrorFor(init: ApiErrorInit): ApiError {
  const { status } = init;
  if (status === 429) return new RateLimitError(init);
  if (status === 401 || status === 403) return new AuthError(init);
  if (status === 404) return new NotFoundError(init);
  if (status === 409) return new ConflictError(init);
  if ([400, 413, 415, 422].includes(status)) return new ValidationError(init);
  if (status >= 500) return new ServerError(init);
  return new ApiError(init);
}

/**
 * The generation ended without images: `failed` (with the job's `code` and `retryable`),
 * `canceled` or `expired` (waited in the queue past its time to live). The generation is attached.
 */
export class GenerationFailedError extends DitserveError {
  readonly generation: Generation;
  readonly status: 'failed' | 'canceled' | 'expired';
  readonly code: string;
  readonly retryable: boolean;

  constructor(generation: Generation) {
    const status = generation.status as 'failed' | 'canceled' | 'expired';
    super(
      `generation ${generation.id} ${status}` +
        (generation.error ? `: ${generation.error.message}` : ''),
    );
    this.generation = generation;
    this.status = status;
    this.code = generation.error?.code ?? `generation_${status}`;
    this.retryable = generation.error?.retryable ?? false;
  }
}

export class GenerationCanceledError extends GenerationFailedError {}
export class GenerationExpiredError extends GenerationFailedError {}

/** The error for a generation that ended in `status` other than succeeded. */
export function generationErrorFor(generation: Generation): GenerationFailedError {
  if (generation.status === 'canceled') return new GenerationCanceledError(generation);
  if (generation.status === 'expired') return new GenerationExpiredError(generation);
  return new GenerationFailedError(generation);
}
