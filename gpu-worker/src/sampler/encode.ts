import { encodePng } from './png.ts';
import { loadSharp } from './sharp.ts';

export type ImageFormat = 'png' | 'webp' | 'jpeg';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'webp', 'jpeg'];

export const MIME_TYPES: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
};

export interface RawImage {
  readonly width: number;
  readonly height: number;
  /** uint8 RGB, row-major HWC */
  readonly pixels: Uint8Array;
}

/** What made an image; becomes text metadata of the file (keys: see metadataFor). */
export interface ImageProvenance {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly seed: number;
  readonly steps: number;
  readonly guidanceScale: number;
  readonly sampler: string;
  /** "name@version" of the model */
  readonly model: string;
}

/**
 * The metadata keys written into every image (documented in docs/cli.md). PNG gets one text
 * chunk per key; WebP and JPEG get the same object as JSON in EXIF ImageDescription.
 */
export function metadataFor(p: ImageProvenance): Record<string, string> {
  return {
    prompt: p.prompt,
    negative_prompt: p.negativePrompt,
    seed: String(p.seed),
    steps: String(p.steps),
    guidance_scale: String(p.guidanceScale),
    sampler: p.sampler,
    model: p.model,
    Software: 'ditserve',
  };
}

/**
 * JSON text with every non-ASCII character as a \u escape: EXIF ASCII fields hold 7-bit text
 * only, and outside strings JSON has no such characters, so the value parses the same. Images
 * and animated WebP clips (media/webp.ts) write their EXIF description through this one.
 */
export function asciiJson(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface EncodeOptions {
  /** WebP/JPEG quality 1–100 (default 90); PNG is lossless. */
  readonly quality?: number;
}

/**
 * Loads sharp (once) for WebP/JPEG. It is imported lazily so that PNG output works where sharp
 * is not installed (the GPU machine's bundle); call this before expensive work to fail early.
 */
export async function ensureEncoder(format: ImageFormat): Promise<void> {
  if (format !== 'png') await sharpForImages();
}

const sharpForImages = () =>
  loadSharp(
    (reason) =>
      `WebP and JPEG output need the "sharp" package, which cannot be loaded here; write PNG instead (${reason})`,
  );

/**
 * Encodes an image with its metadata. PNG output is deterministic (same input → same bytes).
 * sharp is imported only for WebP/JPEG, so PNG works where sharp is not installed.
 */
export async function encodeImage(
  image: RawImage,
  format: ImageFormat,
  metadata: Readonly<Record<string, string>>,
  { quality = 90 }: EncodeOptions = {},
): Promise<Buffer> {
  if (format === 'png') return encodePng(image.pixels, image.width, image.height, metadata);
  const sharp = await sharpForImages();
  const raw = sharp(image.pixels, {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  const exif = {
    IFD0: { ImageDescription: asciiJson(JSON.stringify(metadata)), Software: 'ditserve' },
  };
  const encoded = format === 'webp' ? raw.webp({ quality }) : raw.jpeg({ quality, mozjpeg: true });
  return encoded.withExif(exif).toBuffer();
}
