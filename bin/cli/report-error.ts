import { ConfigError, UsageError } from '../../core/config.ts';
import { isDitserveError } from '../../core/errors.ts';
import { ContentPolicyError, ValidationError } from '../../functions/api/errors.ts';
import type { FieldProblem } from '../../functions/api/errors.ts';
import { InvalidRequestError } from '../../gpu-worker/src/sampler/index.ts';
import {
  ApiError,
  ConnectionError,
  DitserveError as ClientError,
  GenerationFailedError,
} from '../../sdk/client/index.ts';
import { FLAG_OF_FIELD } from './generate-args.ts';

/** The exit codes of every command (docs/cli.md lists them). */
export const EXIT = { ok: 0, runtime: 1, usage: 2, notSucceeded: 3 } as const;

/** What a failure looks like under --json, the same for local and remote commands. */
interface ErrorReport {
  readonly code: string;
  readonly message: string;
  readonly fields?: readonly FieldProblem[];
  readonly status?: number;
  readonly retryable?: boolean;
}

function fieldsOf(error: unknown): readonly FieldProblem[] | undefined {
  if (error instanceof ValidationError) return error.problems;
  if (error instanceof ContentPolicyError) {
    return [{ field: error.field, message: error.message, allowed: 'text the policy accepts' }];
  }
  if (error instanceof ApiError && error.fieldErrors.length > 0) return error.fieldErrors;
  return undefined;
}

/** Errors ditserve raises on purpose (here or on the server); anything else is a bug. */
function describe(error: unknown): ErrorReport | undefined {
  const fields = fieldsOf(error);
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      status: error.status,
      retryable: error.retryable,
      ...(fields ? { fields } : {}),
    };
  }
  if (error instanceof GenerationFailedError) {
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  if (error instanceof ConnectionError) return { code: 'unreachable', message: error.message };
  if (isDitserveError(error) || error instanceof ClientError) {
    const code = (error as { code?: string }).code ?? 'client_error';
    return { code, message: error.message, ...(fields ? { fields } : {}) };
  }
  return undefined;
}

/** A field as a CLI user knows it: the flag, then the API's name for it. */
function where(field: string): string {
  const flag = FLAG_OF_FIELD[field];
  return flag ? `${flag} (${field})` : field;
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof GenerationFailedError) return EXIT.notSucceeded;
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof InvalidRequestError ||
    error instanceof ValidationError ||
    error instanceof ContentPolicyError ||
    (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429)
  ) {
    return EXIT.usage;
  }
  return EXIT.runtime;
}

/**
 * One line per problem on stderr (a refused field names its flag and what is allowed), no
 * stack trace for errors raised on purpose; with --json the same as an object on stdout.
 */
export function report(error: unknown, json: boolean): void {
  const described = describe(error);
  if (!described) {
    process.stderr.write(
      `ditserve: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return;
  }
  if (described.fields && described.fields.length > 0) {
    for (const f of described.fields) {
      const allowed = f.allowed ? `; allowed: ${f.allowed}` : '';
      process.stderr.write(`ditserve: ${where(f.field)}: ${f.message}${allowed}\n`);
    }
  } else {
    process.stderr.write(`ditserve: ${described.message}\n`);
  }
  if (json) process.stdout.write(JSON.stringify({ error: described }) + '\n');
}
