import { DitserveError } from '../../core/errors.ts';

/** The command line itself is wrong (unknown option, bad value): exit code 2, no stack trace. */
export class UsageError extends DitserveError {
  readonly code = 'usage';
}
