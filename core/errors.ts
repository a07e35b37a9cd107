/**
 * Every stable error code and the HTTP status the API answers with. A new error class must add
 * its code here (DitserveError.code is typed by this table), so the mapping stays exhaustive.
 */
export const HTTP_STATUS = {
  // A client's mistake: 4xx, never 5xx.
  usage: 400,
  malformed_json: 400,
  incomplete_body: 400,
  malformed_http: 400,
  malformed_form: 400,
  request_timeout: 408,
  headers_too_large: 431,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  model_not_found: 404,
  job_not_found: 404,
  blob_not_found: 404,
  key_not_found: 404,
  url_expired: 403,
  method_not_allowed: 405,
  version_conflict: 409,
  invalid_transition: 409,
  generation_canceled: 409,
  idempotency_conflict: 409,
  job_not_terminal: 409,
  // A request names a generation (extend, a video's content) that has not succeeded.
  generation_not_succeeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_request: 422,
  content_policy: 422,
  webhook_url_refused: 422,
  rate_limited: 429,
  too_many_queued: 429,
  // The deployment's fault or state: 5xx.
  config_invalid: 500,
  model_file_missing: 500,
  model_config_invalid: 500,
  encoder_unavailable: 501,
  device_unavailable: 503,
  store_unavailable: 503,
  internal: 500,
  generation_failed: 500,
  wait_timeout: 504,
  // Webhooks: redeliver on a job without a (subscribed) webhook; an unusable signing secret.
  webhook_not_configured: 409,
  webhook_secret_invalid: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof HTTP_STATUS;

/** The HTTP status of an error: its code's entry, or 500 for anything ditserve did not raise. */
export function httpStatusOf(error: unknown): number {
  return isDitserveError(error) ? HTTP_STATUS[error.code] : 500;
}

/**
 * The root of ditserve's error hierarchy. Every error that ditserve raises on purpose extends
 * DitserveError and carries a stable, machine-readable `code`: the CLI turns it into a one-line
 * message (no stack trace for a user's mistake) and the API will map it to an HTTP status.
 * Messages are written for the person who has to act on them; codes never change once shipped.
 */
export abstract class DitserveError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for errors ditserve raised on purpose (as opposed to bugs and foreign failures). */
export function isDitserveError(error: unknown): error is DitserveError {
  return error instanceof DitserveError;
}
