import { isDitserveError } from '../../errors.ts';
import { StoreUnavailableError } from '../../ports/job-store.ts';

/** What the AWS SDK v3 attaches to a service's error response (ServiceException). */
interface ServiceErrorShape {
  readonly name: string;
  readonly $metadata?: { readonly httpStatusCode?: number | undefined } | undefined;
}

function isServiceError(error: unknown): error is Error & ServiceErrorShape {
  return error instanceof Error && '$metadata' in error;
}

export function statusOf(error: unknown): number | undefined {
  return isServiceError(error) ? error.$metadata?.httpStatusCode : undefined;
}

/** Someone else wrote first: S3 If-Match / If-None-Match lost (412), or a concurrent one (409). */
export function isPreconditionFailed(error: unknown): boolean {
  if (!isServiceError(error)) return false;
  return (
    error.name === 'PreconditionFailed' ||
    error.name === 'ConditionalRequestConflict' ||
    statusOf(error) === 412
  );
}

/** The object is missing; a missing bucket (also 404) is a broken deployment, not this. */
export function isNotFound(error: unknown): boolean {
  return isServiceError(error) && error.name === 'NoSuchKey';
}

export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** The receipt belongs to an earlier delivery or the message is gone: not an error for us. */
export function isStaleReceipt(error: unknown): boolean {
  return (
    isServiceError(error) &&
    ['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidParameterValue'].includes(error.name)
  );
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = 'code' in error ? error.code : undefined;
  return (
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    error.name === 'TimeoutError' ||
    error.name === 'CredentialsProviderError'
  );
}

/**
 * Translates what the AWS SDK threw into our error types at the adapter boundary: every service
 * error the adapter did not handle on purpose (throttling, 5xx, access denied, a missing
 * bucket) and every network failure becomes StoreUnavailableError; our own errors and bugs pass.
 */
export function awsError(error: unknown, what: string): unknown {
  if (isDitserveError(error)) return error;
  if (isServiceError(error)) {
    const status = statusOf(error);
    return new StoreUnavailableError(
      `${what} failed: ${error.name}${status ? ` (HTTP ${status})` : ''}`,
      { cause: error },
    );
  }
  if (isNetworkError(error)) {
    return new StoreUnavailableError(
      `${what} failed: ${error instanceof Error ? error.message : ''}`,
      {
        cause: error,
      },
    );
  }
  return error;
}

/** Runs one adapter operation, translating vendor errors (see awsError). */
export async function atAwsBoundary<R>(what: string, body: () => Promise<R>): Promise<R> {
  try {
    return await body();
  } catch (error) {
    throw awsError(error, what);
  }
}
