import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SETTINGS } from '../../../core/settings.ts';
import { runFfmpeg } from './ffmpeg.ts';
import { checkFrames, type ClipFormat, type Frames } from './frames.ts';
import { parametersJson, type ClipMetadata } from './metadata.ts';

export const MP4_MIME_TYPE = 'video/mp4';

export interface Mp4Options extends ClipFormat {
  /** Written as the container's `comment` tag (JSON). */
  readonly metadata?: ClipMetadata;
  /** The ffmpeg executable (DITSERVE_FFMPEG; default `ffmpeg` on PATH). */
  readonly ffmpeg?: string;
  /** x264's constant rate factor, 0–51, lower is better (default 18: close to the frames). */
  readonly crf?: number;
  /** ffmpeg is killed after this long (default 120 s). */
  readonly timeoutMs?: number;
}

/**
 * The arguments: raw RGB frames on stdin; H.264 in yuv420p (what every browser plays), BT.709
 * tagged so players convert back with the matrix it was converted with, and the moov atom moved
 * before the media data (+faststart) so a browser starts playing before the whole file arrives.
 */
function mp4Args(opts: Mp4Options, frameCount: number, out: string): string[] {
  const { width, height, fps, metadata, crf = 18 } = opts;
  return [
    ['-hide_banner', '-nostats', '-loglevel', 'error'],
    ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${width}x${height}`],
    ['-framerate', String(fps), '-i', 'pipe:0'],
    ['-frames:v', String(frameCount), '-an'],
    ['-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv420p'],
    ['-c:v', 'libx264', '-preset', 'medium', '-crf', String(crf), '-pix_fmt', 'yuv420p'],
    ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'],
    ['-color_range', 'tv'],
    metadata === undefined ? [] : ['-metadata', `comment=${parametersJson(metadata)}`],
    ['-movflags', '+faststart', '-f', 'mp4', '-y', out],
  ].flat();
}

/**
 * Encodes a clip as an MP4 (H.264, yuv420p, +faststart) with the generation parameters in its
 * `comment` tag. ffmpeg writes to a temporary file, removed afterwards: +faststart rewrites the
 * file's start once the media is written, which a pipe cannot do. Throws EncoderUnavailableError
 * where ffmpeg cannot be run (check h264Encoder() first) and VideoEncodeError when it fails.
 */
export async function encodeMp4(frames: Frames, opts: Mp4Options): Promise<Buffer> {
  checkFrames(frames, opts);
  // yuv420p keeps colour at half resolution in both directions.
  if (opts.width % 2 !== 0 || opts.height % 2 !== 0) {
    throw new RangeError(`H.264 in yuv420p needs an even size, got ${opts.width}×${opts.height}`);
  }
  if (opts.crf !== undefined && !(opts.crf >= 0 && opts.crf <= 51)) {
    throw new RangeError(`crf must be in [0, 51], got ${opts.crf}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ditserve-mp4-'));
  try {
    const out = join(dir, 'clip.mp4');
    await runFfmpeg({
      ffmpeg: opts.ffmpeg ?? SETTINGS.ffmpeg.default,
      args: mp4Args(opts, frames.length, out),
      stdin: frames,
      timeoutMs: opts.timeoutMs ?? 120_000,
      what: 'the MP4',
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
