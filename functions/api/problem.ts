import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HTTP_STATUS, isDitserveError, type ErrorCode } from '../../core/errors.ts';
import {
  GenerationEndedError,
  ContentPolicyError,
  RateLimitedError,
  ReferencedGenerationError,
  ValidationError,
  type FieldProblem,
} from './errors.ts';

export const PROBLEM_TYPE_BASE = 'https://ditserve.dev/problems/';

const TITLES: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'The request does not follow the API contract',
  malformed_json: 'The body is not valid JSON',
  malformed_form: 'The body is not a valid form',
  incomplete_body: 'The body is shorter than its Content-Length',
  malformed_http: 'The request is not valid HTTP/1.1',
  request_timeout: 'The request took too long to arrive',
  headers_too_large: 'The request headers are too large',
  unauthorized: 'Missing or invalid API key',
  not_found: 'No such resource',
  job_not_found: 'No such generation',
  model_not_found: 'No such model',
  method_not_allowed: 'Method not allowed',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'Unsupported content type',
  content_policy: 'The prompt was refused by the content policy',
  webhook_url_refused: 'The webhook URL is not allowed',
  idempotency_conflict: 'The Idempotency-Key was used with a different request',
  url_expired: 'The file URL has expired or is not valid',
  generation_canceled: 'The generation was canceled',
  generation_failed: 'The generation failed',
  wait_timeout: 'The generation did not finish in time',
  rate_limited: 'Too many requests',
  too_many_queued: 'Too many queued generations',
  invalid_transition: 'The generation cannot change that way',
  generation_not_succeeded: 'The generation named has not succeeded',
  job_not_terminal: 'The generation has not finished',
  store_unavailable: 'A backing service is unavailable',
  internal: 'Internal error',
};

/** RFC 9457 problem details with ditserve's stable `code` and per-field problems. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: FieldProblem[];
  /** OpenAI-shaped twin of the problem, so OpenAI SDKs show a useful message. */
  error?: { message: string; type: string; param: string | null; code: string };
}

function problemOf(error: unknown): { code: ErrorCode; detail: string; errors?: FieldProblem[] } {
  if (error instanceof ValidationError) {
    return { code: error.code, detail: error.message, errors: [...error.problems] };
  }
  if (error instanceof ContentPolicyError) {
    return {
      code: error.code,
      detail: error.message,
      errors: [{ field: error.field, message: error.message, allowed: 'text the policy accepts' }],
    };
  }
  if (error instanceof ReferencedGenerationError) {
    return {
      code: error.code,
      detail: error.message,
      errors: [{ field: error.field, message: error.message, allowed: error.allowed }],
    };
  }
  if (isDitserveError(error)) return { code: error.code, detail: error.message };
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own 4xx (e.g. the body-limit middleware) without a ditserve class.
    const code: ErrorCode =
      error.status === 413 ? 'payload_too_large' : error.status === 404 ? 'not_found' : 'usage';
    return { code, detail: error.message };
  }
  return { code: 'internal', detail: 'an internal error occurred; it has been logged' };
}

/** The problem document of any thrown value; unknown errors become an opaque 500. */
export function problemDocument(error: unknown, requestId: string): Problem {
  const { code, detail, errors } = problemOf(error);
  const status = HTTP_STATUS[code];
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: TITLES[code] ?? code.replaceAll('_', ' '),
    status,
    detail,
    code,
    request_id: requestId,
    ...(errors ? { errors } : {}),
    error: {
      message: detail,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      param: errors?.[0]?.field ?? null,
      code,
    },
  };
}

/** Renders any thrown value as application/problem+json; unknown errors become an opaque 500. */
export function problemResponse(c: Context, error: unknown, requestId: string): Response {
  const body = problemDocument(error, requestId);
  const { code, status } = body;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error instanceof RateLimitedError) headers['retry-after'] = String(error.retryAfterSeconds);
  if (code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="ditserve"';
  // The generation exists and goes on (or has ended): a blind retry, as OpenAI's SDKs make on
  // 5xx, would start a second one. x-should-retry is the header those SDKs obey.
  if (error instanceof GenerationEndedError) headers['x-should-retry'] = 'false';
  return c.body(JSON.stringify(body), status as 400, headers);
}
