import { DitserveError } from '../../../core/errors.ts';

/**
 * ffmpeg ran but did not write the video (exit status, signal or timeout). The message ends with
 * the last line ffmpeg printed; `stderrTail` holds the end of its error output for the logs.
 */
export class VideoEncodeError extends DitserveError {
  readonly code = 'generation_failed';
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;

  constructor(
    message: string,
    details: {
      readonly exitCode: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stderrTail: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail;
  }
}
