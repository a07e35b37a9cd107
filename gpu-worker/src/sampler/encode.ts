import type { Sharp, SharpOptions } from 'sharp';
import { EncoderUnavailableError } from './errors.ts';
import { encodePng } from './png.ts';

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

/** JSON with every non-ASCII character escaped: EXIF ASCII fields hold 7-bit text only. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export interface EncodeOptions {
  /** WebP/JPEG quality 1–100 (default 90); PNG is lossless. */
  readonly quality?: number;
}

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0];

type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | undefined;

/**
 * Loads sharp (once) for WebP/JPEG. It is imported lazily so that PNG output works where sharp
 * is not installed (the GPU machine's bundle); call this before expensive work to fail early.
 */
export async function ensureEncoder(format: ImageFormat): Promise<void> {
  if (format !== 'png') await loadSharp();
}

function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (error: unknown) => {
      sharpModule = undefined;
      throw new EncoderUnavailableError(
        `WebP and JPEG output need the "sharp" package, which cannot be loaded here; write PNG instead (${firstLine(error)})`,
        { cause: error },
      );
    },
  );
  return sharpModule;
}

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
  const sharp = await loadSharp();
  const raw = sharp(image.pixels, {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
  const exif = { IFD0: { ImageDescription: asciiJson(metadata), Software: 'ditserve' } };
  const encoded = format === 'webp' ? raw.webp({ quality }) : raw.jpeg({ quality, mozjpeg: true });
  return encoded.withExif(exif).toBuffer();
}
