/**
 * `ditserve/client`: the typed client for the ditserve HTTP API (docs/client.md).
 */
export { Ditserve } from './client.ts';
export type {
  CallOptions,
  DitserveOptions,
  GenerateOptions,
  SubmitOptions,
  WaitOptions,
} from './client.ts';
export {
  ApiError,
  AuthError,
  ConflictError,
  ConnectionError,
  DitserveError,
  GenerationCanceledError,
  GenerationExpiredError,
  GenerationFailedError,
  NotFoundError,
  RateLimitError,
  ServerError,
  ValidationError,
} from './errors.ts';
export type { FetchLike, RetryInfo } from './http.ts';
export type { RetryOptions } from './retry.ts';
export type {
  FieldError,
  GenerateParams,
  Generation,
  GenerationEvent,
  GenerationPage,
  GenerationStatus,
  ListParams,
  Model,
  Problem,
  WebhookSecrets,
} from './types.ts';
