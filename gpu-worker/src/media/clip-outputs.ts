import { h264Encoder } from './h264-encoder.ts';
import type { ClipFormat, Frames } from './frames.ts';
import type { ClipMetadata } from './metadata.ts';
import { encodeMp4 } from './mp4.ts';
import { thumbnailPng } from './thumbnail.ts';
import { encodeAnimatedWebp } from './webp.ts';

export interface ClipOutputOptions extends ClipFormat {
  readonly metadata: ClipMetadata;
  /** The ffmpeg executable (DITSERVE_FFMPEG; default `ffmpeg` on PATH). */
  readonly ffmpeg?: string;
}

/** The files of one clip (docs: the contract's "Outputs of a video generation"). */
export interface ClipOutputs {
  /** Absent where no H.264 encoder exists; `note` says why. */
  readonly mp4?: Buffer;
  readonly webp: Buffer;
  readonly thumbnail: Buffer;
  /** Why the MP4 is missing, a sentence for the job's output. */
  readonly note?: string;
}

/**
 * Every file of a clip, encoded side by side: MP4 where ffmpeg with libx264 exists (else left
 * out with a note, never a failure), animated WebP and the PNG thumbnail always. A failing ffmpeg
 * that does exist is a failure (VideoEncodeError): the job should not quietly lose its MP4.
 */
export async function encodeClipOutputs(
  frames: Frames,
  opts: ClipOutputOptions,
): Promise<ClipOutputs> {
  const encoder = await h264Encoder(opts.ffmpeg);
  const [mp4, webp, thumbnail] = await Promise.all([
    encoder.available ? encodeMp4(frames, { ...opts, ffmpeg: encoder.ffmpeg }) : undefined,
    encodeAnimatedWebp(frames, opts),
    thumbnailPng(frames[0] ?? new Uint8Array(0), opts),
  ]);
  if (mp4) return { mp4, webp, thumbnail };
  return { webp, thumbnail, ...(encoder.available ? {} : { note: encoder.note }) };
}
