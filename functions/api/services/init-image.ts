import { Buffer } from 'node:buffer';
import type { default as SharpFactory } from 'sharp';
import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';
import { ImageDecoderUnavailableError, ValidationError } from '../errors.ts';

/** The image types a client may send; the data URL's type must be one of them when it has one. */
const FORMATS: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};
const ALLOWED = 'a PNG, JPEG or WebP image as base64 or a data:image/…;base64, URL';

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

let sharpModule: Promise<typeof SharpFactory> | undefined;

/** sharp is loaded on first use, so that the API starts (and serves images) without it. */
function loadSharp(): Promise<typeof SharpFactory> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (error: unknown) => {
      sharpModule = undefined;
      throw new ImageDecoderUnavailableError(
        'init images cannot be read here: the image library sharp is not installed',
        { cause: error },
      );
    },
  );
  return sharpModule;
}

/** The bytes of a base64 string or base64 data URL; a 422 on `field` for anything else. */
function bytesOf(text: string, field: string, maxBytes: number): Buffer {
  const url = DATA_URL.exec(text);
  if (text.startsWith('data:') && !url) {
    throw ValidationError.field(field, 'is a data URL but not a base64 one', ALLOWED);
  }
  const type = url?.[1]?.toLowerCase();
  if (type !== undefined && !Object.values(FORMATS).includes(type)) {
    throw ValidationError.field(field, `is ${type}`, ALLOWED);
  }
  const payload = (url ? text.slice(url[0].length) : text).replace(/\s+/g, '');
  if (!BASE64.test(payload) || payload.length % 4 === 1) {
    throw ValidationError.field(field, 'is not valid base64', ALLOWED);
  }
  // Checked before decoding: base64 is 4 characters per 3 bytes.
  if (Math.floor((payload.length * 3) / 4) > maxBytes + 2) {
    throw ValidationError.field(
      field,
      'is too large',
      `an image file of at most ${maxBytes} bytes`,
    );
  }
  const bytes = Buffer.from(payload, 'base64');
  if (bytes.length > maxBytes) {
    throw ValidationError.field(
      field,
      'is too large',
      `an image file of at most ${maxBytes} bytes`,
    );
  }
  return bytes;
}

/**
 * An init image as the client sent it (base64 or a data URL), decoded and checked with sharp and
 * re-encoded as an RGB PNG, the one format the worker reads; its size is the client's (the
 * worker fits it to the clip). A file that is not a whole PNG, JPEG or WebP is a 422 on `field`.
 */
export async function decodeInitImage(
  text: string,
  field: string,
  maxBytes: number,
): Promise<Uint8Array> {
  return decodeImageFile(bytesOf(text, field, maxBytes), field, maxBytes);
}

/** The same for a file's bytes (a multipart upload). */
export async function decodeImageFile(
  bytes: Uint8Array,
  field: string,
  maxBytes: number,
): Promise<Uint8Array> {
  if (bytes.byteLength > maxBytes) {
    throw ValidationError.field(
      field,
      'is too large',
      `an image file of at most ${maxBytes} bytes`,
    );
  }
  const sharp = await loadSharp();
  const limitInputPixels = LIMITS.maxSide * LIMITS.maxSide;
  let format = '';
  let width = 0;
  let height = 0;
  try {
    const meta = await sharp(bytes, { limitInputPixels }).metadata();
    ({ format, width, height } = meta);
  } catch {
    throw ValidationError.field(field, 'is not an image that can be read', ALLOWED);
  }
  if (FORMATS[format] === undefined) {
    throw ValidationError.field(field, `is in ${format} format`, ALLOWED);
  }
  if (width > LIMITS.maxSide || height > LIMITS.maxSide) {
    throw ValidationError.field(
      field,
      `is ${width}x${height}`,
      `at most ${LIMITS.maxSide} pixels a side`,
    );
  }
  try {
    // failOn 'error': a truncated or corrupt file is refused, not decoded in part.
    const png = await sharp(bytes, { limitInputPixels, failOn: 'error' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
    return new Uint8Array(png);
  } catch {
    throw ValidationError.field(field, 'is a damaged or incomplete image', ALLOWED);
  }
}
