import { GenerationCanceledError } from '../errors.ts';
import type { GenerateOptions } from '../generate.ts';

/**
 * Progress and cancellation of one generateVideos() call, with the image generate()'s
 * conventions: onProgress after every denoising step, with the steps of all groups as the
 * total; the signal checked at every step boundary.
 */
export class StepProgress {
  done = 0;
  readonly #start = performance.now();

  constructor(
    readonly total: number,
    private readonly options: GenerateOptions,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  throwIfCanceled(): void {
    const { signal } = this.options;
    if (signal?.aborted) {
      throw new GenerationCanceledError(
        `generation canceled after ${this.done} of ${this.total} steps`,
        { cause: signal.reason },
      );
    }
  }

  stepDone(): void {
    this.done += 1;
    this.options.onProgress?.(this.done, this.total, performance.now() - this.#start);
  }
}
