import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SETTINGS } from '../../../core/settings.ts';

const execFileAsync = promisify(execFile);

/** Whether MP4 (H.264) can be written here, and if not, the sentence a job's output carries. */
export type H264Encoder =
  | { readonly available: true; readonly ffmpeg: string }
  | { readonly available: false; readonly ffmpeg: string; readonly note: string };

/** `ffmpeg -encoders` lists one encoder a line: flags (V… for video), its name, a description. */
const LIBX264_LINE = /^\s*V\S*\s+libx264\s/m;

const cache = new Map<string, Promise<H264Encoder>>();

const leftOut = (why: string) =>
  `MP4 left out: ${why}; install ffmpeg with libx264 (Debian/Ubuntu: apt-get install ffmpeg) or point ${SETTINGS.ffmpeg.env} at one. The animated WebP has the same frames.`;

async function detect(ffmpeg: string): Promise<H264Encoder> {
  let encoders: string;
  try {
    ({ stdout: encoders } = await execFileAsync(ffmpeg, ['-hide_banner', '-encoders'], {
      timeout: 15_000,
      maxBuffer: 4 * 1024 * 1024,
    }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `no ffmpeg here ("${ffmpeg}" not found)`
        : `ffmpeg ("${ffmpeg}") did not list its encoders (${code ?? (error as Error).message.split('\n')[0] ?? 'unknown error'})`;
    return { available: false, ffmpeg, note: leftOut(why) };
  }
  if (LIBX264_LINE.test(encoders)) return { available: true, ffmpeg };
  return {
    available: false,
    ffmpeg,
    note: leftOut(`the ffmpeg here ("${ffmpeg}") was built without libx264`),
  };
}

/**
 * Whether `ffmpeg` (default: DITSERVE_FFMPEG's default, `ffmpeg` on PATH) exists and has the
 * libx264 encoder. Asked once per executable and process: a worker checks before each video job.
 * Never rejects: a missing encoder is an answer, not a failure.
 */
export function h264Encoder(ffmpeg: string = SETTINGS.ffmpeg.default): Promise<H264Encoder> {
  let found = cache.get(ffmpeg);
  if (!found) {
    found = detect(ffmpeg);
    cache.set(ffmpeg, found);
  }
  return found;
}
