import { DitserveError, type ErrorCode } from '../../core/errors.ts';

/** One problem with one field of a request; `allowed` says what would have been accepted. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
  readonly allowed?: string | undefined;
}

/** The request is well-formed JSON but breaks the contract (422, every problem listed). */
export class ValidationError extends DitserveError {
  readonly code: 'invalid_request' | 'webhook_url_refused';
  readonly problems: readonly FieldProblem[];

  constructor(
    problems: readonly FieldProblem[],
    code: 'invalid_request' | 'webhook_url_refused' = 'invalid_request',
  ) {
    const first = problems[0];
    super(
      first
        ? `${first.field ? `${first.field}: ` : ''}${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`
        : 'invalid request',
    );
    this.problems = problems;
    this.code = code;
  }

  static field(field: string, message: string, allowed?: string): ValidationError {
    return new ValidationError([{ field, message, allowed }]);
  }
}

export class MalformedJsonError extends DitserveError {
  readonly code = 'malformed_json';
}

/** A multipart/form-data or urlencoded body that does not parse. */
export class MalformedFormError extends DitserveError {
  readonly code = 'malformed_form';
}

export class UnauthorizedError extends DitserveError {
  readonly code = 'unauthorized';
}

export class NotFoundError extends DitserveError {
  readonly code = 'not_found';
}

export class MethodNotAllowedError extends DitserveError {
  readonly code = 'method_not_allowed';
}

/** The body ended before its Content-Length, or the client went away while sending it. */
export class IncompleteBodyError extends DitserveError {
  readonly code = 'incomplete_body';
}

export class PayloadTooLargeError extends DitserveError {
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends DitserveError {
  readonly code = 'unsupported_media_type';
}

/** The prompt policy refused a text field (`prompt` or `negative_prompt`): 422 naming it. */
export class ContentPolicyError extends DitserveError {
  readonly code = 'content_policy';

  constructor(
    message: string,
    readonly field = 'prompt',
  ) {
    super(message);
  }
}

export class IdempotencyConflictError extends DitserveError {
  readonly code = 'idempotency_conflict';
}

export class UrlExpiredError extends DitserveError {
  readonly code = 'url_expired';
}

/** Backpressure: the client should retry after `retryAfterSeconds`. */
export class RateLimitedError extends DitserveError {
  readonly code: 'rate_limited' | 'too_many_queued';
  readonly retryAfterSeconds: number;

  constructor(
    code: 'rate_limited' | 'too_many_queued',
    message: string,
    retryAfterSeconds: number,
  ) {
    super(message);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The OpenAI endpoint's answer for a generation that ended without images (or has not ended in
 * time), with the job's own error code.
 */
export class GenerationEndedError extends DitserveError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A request names another generation that cannot serve (a video to extend, a video's content):
 * 404 when there is no such generation for the tenant, 409 when it has not succeeded. `field`
 * names what pointed at it.
 */
export class ReferencedGenerationError extends DitserveError {
  readonly code: 'job_not_found' | 'generation_not_succeeded';
  constructor(
    code: 'job_not_found' | 'generation_not_succeeded',
    message: string,
    readonly field: string,
    readonly allowed?: string,
  ) {
    super(message);
    this.code = code;
  }
}
