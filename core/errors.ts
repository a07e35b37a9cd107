/**
 * The root of ditserve's error hierarchy. Every error that ditserve raises on purpose extends
 * DitserveError and carries a stable, machine-readable `code`: the CLI turns it into a one-line
 * message (no stack trace for a user's mistake) and the API will map it to an HTTP status.
 * Messages are written for the person who has to act on them; codes never change once shipped.
 */
export abstract class DitserveError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for errors ditserve raised on purpose (as opposed to bugs and foreign failures). */
export function isDitserveError(error: unknown): error is DitserveError {
  return error instanceof DitserveError;
}
