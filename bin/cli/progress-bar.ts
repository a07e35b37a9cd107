/**
 * A one-line progress bar on a TTY stream (the CLI passes stderr, so stdout stays clean for
 * --json). On anything that is not a TTY it draws nothing: logs should not fill with \r frames.
 */
/** Time left at the pace so far; nothing before the first step (no pace yet). */
export function eta(step: number, total: number, elapsedMs: number): string {
  if (step <= 0 || step >= total) return '';
  return `, ETA ${(((total - step) * elapsedMs) / step / 1000).toFixed(1)}s`;
}

export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #enabled: boolean;
  readonly #width = 30;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#enabled = stream.isTTY;
  }

  update(step: number, total: number, elapsedMs: number): void {
    if (!this.#enabled) return;
    const filled = Math.round((step / total) * this.#width);
    const bar = '#'.repeat(filled) + '.'.repeat(this.#width - filled);
    this.#stream.write(
      `\r[${bar}] ${step}/${total} ${(elapsedMs / 1000).toFixed(1)}s${eta(step, total, elapsedMs)}`,
    );
  }

  /** Erases the bar so that the next message starts on a clean line. */
  clear(): void {
    if (this.#enabled) this.#stream.write('\r\x1b[2K');
  }
}
