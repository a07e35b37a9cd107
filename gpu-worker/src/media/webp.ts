import { asciiJson } from '../sampler/encode.ts';
import { loadSharp } from '../sampler/sharp.ts';
import { checkFrames, stackFrames, type ClipFormat, type Frames } from './frames.ts';
import { parametersJson, type ClipMetadata } from './metadata.ts';

export interface AnimatedWebpOptions extends ClipFormat {
  /** In EXIF ImageDescription (JSON), as still WebP images carry theirs. */
  readonly metadata?: ClipMetadata;
  /** Lossy quality 1–100 (default 90, as still images). */
  readonly quality?: number;
}

// Lazily, as images load it: MP4 and the PNG thumbnail work where sharp cannot load.
const sharpForClips = () =>
  loadSharp(
    (reason) => `animated WebP needs the "sharp" package, which cannot be loaded here (${reason})`,
  );

/**
 * Each frame's delay in whole milliseconds (what WebP stores), 1000/fps on average: rounded so
 * that frame i still starts at round(i × 1000/fps) and the clip keeps its length (e.g. 24 fps:
 * 42, 41, 42, …).
 */
export function frameDelays(fps: number, count: number): number[] {
  const start = (i: number) => Math.round((i * 1000) / fps);
  return Array.from({ length: count }, (_, i) => start(i + 1) - start(i));
}

/**
 * Encodes a clip as an animated WebP that loops forever, frame delays from fps, the parameters
 * in EXIF ImageDescription (sharp writes EXIF into animated WebP as into still ones).
 */
export async function encodeAnimatedWebp(
  frames: Frames,
  opts: AnimatedWebpOptions,
): Promise<Buffer> {
  checkFrames(frames, opts);
  const { width, height, fps, metadata, quality = 90 } = opts;
  const sharp = await sharpForClips();
  const animation = sharp(stackFrames(frames), {
    raw: { width, height: height * frames.length, channels: 3, pageHeight: height },
  }).webp({ quality, loop: 0, delay: frameDelays(fps, frames.length) });
  if (metadata === undefined) return animation.toBuffer();
  return animation
    .withExif({
      IFD0: { ImageDescription: asciiJson(parametersJson(metadata)), Software: 'ditserve' },
    })
    .toBuffer();
}
