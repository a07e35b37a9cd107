import type { ProgressCallback } from '../../gpu-worker/src/sampler/index.ts';
import type { GenerateArgs } from './generate-args.ts';
import { ProgressBar } from './progress-bar.ts';

/** One written image (or clip) in `ditserve generate --json`. */
export interface WrittenImage {
  readonly path: string;
  readonly bytes: number;
  readonly seed: number;
}

/**
 * What `ditserve generate --json` prints for any model (one JSON object on stdout): the first
 * file's path, bytes and seed (the only one unless --n), and the run's parameters.
 */
export interface RunReport extends WrittenImage {
  readonly format: string;
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  readonly width: number;
  readonly height: number;
  readonly model: { readonly name: string; readonly version: string; readonly dir?: string };
  readonly device: string;
  readonly deviceFallback: string | null;
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
}

/** What `ditserve generate --json` prints for an image model. */
export interface GenerateReport extends RunReport {
  /** The generation's id, when a running ditserve made it. */
  readonly id?: string;
  readonly images: readonly WrittenImage[];
}

/**
 * Prints a report: JSON on stdout with --json, else the warnings, one `wrote …` line per file
 * and `<made> in <s> s on <where>` on stderr.
 */
export function printRunReport(
  args: GenerateArgs,
  report: RunReport,
  wrote: readonly string[],
  made: string,
  where: string,
): void {
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  for (const warning of report.warnings) process.stderr.write(`ditserve: warning: ${warning}\n`);
  const seconds = ((report.timings.generateMs ?? 0) / 1000).toFixed(2);
  for (const line of wrote) process.stderr.write(`wrote ${line}\n`);
  process.stderr.write(`${made} in ${seconds} s on ${where}\n`);
}

/** Prints an image model's report (made here or by a running ditserve, `where`). */
export function printReport(args: GenerateArgs, report: GenerateReport, where: string): void {
  printRunReport(
    args,
    report,
    report.images.map(
      (image) =>
        `${image.path} (${report.width}x${report.height}, seed ${image.seed}, ` +
        `${report.steps} ${report.sampler} steps)`,
    ),
    `${report.images.length} image(s)`,
    where,
  );
}

/**
 * Samples on this machine with a progress bar on stderr, then frees the model whatever
 * happened: the bar is erased before anything else is printed.
 */
export async function sampleHere<Result>(
  model: { release(): Promise<void> },
  sample: (onProgress: ProgressCallback) => Promise<Result>,
): Promise<Result> {
  const bar = new ProgressBar(process.stderr);
  try {
    return await sample((step, total, elapsed) => {
      bar.update(step, total, elapsed);
    });
  } finally {
    bar.clear();
    await model.release();
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** A local run's timings from its marks: started, model loaded, sampled, files written. */
export function localTimings(
  t0: number,
  loaded: number,
  sampled: number,
  written: number,
): Record<string, number> {
  return {
    loadMs: round(loaded - t0),
    generateMs: round(sampled - loaded),
    encodeMs: round(written - sampled),
    totalMs: round(written - t0),
  };
}
