import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SETTINGS } from '../../../core/settings.ts';
import { EncoderUnavailableError } from '../sampler/errors.ts';
import { VideoEncodeError } from './errors.ts';

/** The end of ffmpeg's error output that an error keeps: its last lines say what went wrong. */
const STDERR_TAIL_CHARS = 4000;

export interface FfmpegRun {
  /** The ffmpeg executable: a path or a name on PATH (DITSERVE_FFMPEG). */
  readonly ffmpeg: string;
  readonly args: readonly string[];
  /** Written to ffmpeg's stdin in order, then stdin is closed. */
  readonly stdin: readonly Uint8Array[];
  /** Killed (SIGKILL) after this long. */
  readonly timeoutMs: number;
  /** What the run makes, for messages ("the MP4"). */
  readonly what: string;
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  );
}

/**
 * Runs ffmpeg in a child process (the encoding never holds the event loop) and resolves when it
 * exits 0. A missing or unrunnable executable is an EncoderUnavailableError; any other failure a
 * VideoEncodeError with the end of ffmpeg's stderr.
 */
export async function runFfmpeg(run: FfmpegRun): Promise<void> {
  const child = spawn(run.ffmpeg, run.args, { stdio: ['pipe', 'ignore', 'pipe'] });
  // Its own timer rather than spawn's `timeout`, so that a kill by someone else (the OOM killer)
  // is not reported as a timeout.
  const deadline = { passed: false };
  const timer = setTimeout(() => {
    deadline.passed = true;
    child.kill('SIGKILL');
  }, run.timeoutMs);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        resolve({ code, signal });
      });
    },
  );
  // A write error (EPIPE: ffmpeg exited early) says less than its exit status and stderr do.
  const fed = pipeline(Readable.from(run.stdin, { objectMode: false }), child.stdin).catch(
    () => undefined,
  );
  let status: { code: number | null; signal: NodeJS.Signals | null };
  try {
    [status] = await Promise.all([exited, fed]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      throw new EncoderUnavailableError(
        `${run.what} needs ffmpeg, which cannot be run as "${run.ffmpeg}" (${code}); install ffmpeg with libx264 or point ${SETTINGS.ffmpeg.env} at it`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (status.code === 0) return;
  const how = deadline.passed
    ? `was stopped after ${run.timeoutMs / 1000} s`
    : status.signal
      ? `was killed by ${status.signal}`
      : `exited with status ${status.code}`;
  const tail = stderr.trim();
  throw new VideoEncodeError(
    `ffmpeg ${how} while writing ${run.what}${tail ? `: ${lastLine(tail)}` : ''}`,
    { exitCode: status.code, signal: status.signal, stderrTail: tail },
  );
}
