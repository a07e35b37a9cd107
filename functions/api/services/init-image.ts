import { Buffer } from 'node:buffer';
import { LIMITS } from '../../../gpu-worker/src/model-contract/index.ts';
import { ValidationError } from '../errors.ts';
import { imageHeader, type ImageHeader } from './image-header.ts';

/** The image types a client may send; the data URL's type must be one of them when it has one. */
const FORMATS: Readonly<Record<ImageHeader['format'], string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};
const ALLOWED = 'a PNG, JPEG or WebP image as base64 or a data:image/…;base64, URL';

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*);base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of a base64 string or base64 data URL; a 422 on `field` for anything else. */
function bytesOf(text: string, field: string, maxBytes: number): Buffer {
  const url = DATA_URL.exec(text);
  if (text.startsWith('data:') && !url) {
    throw ValidationError.field(field, 'is a data URL but not a base64 one', ALLOWED);
  }
  const type = url?.[1]?.toLowerCase();
  if (type !== undefined && !Object.values<string>(FORMATS).includes(type)) {
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

/** An init image file as the API stores it: the client's bytes and their type. */
export interface InitImageFile {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  /** File name extension for its storage key. */
  readonly ext: 'png' | 'jpeg' | 'webp';
}

/**
 * An init image as the client sent it (base64 or a data URL), checked by its header: a PNG, JPEG
 * or WebP within the size limits, else a 422 on `field`. The worker decodes it (and fits it to
 * the clip); data damaged past the header fails the job there, as invalid_request.
 */
export function decodeInitImage(text: string, field: string, maxBytes: number): InitImageFile {
  const bytes = bytesOf(text, field, maxBytes); // within maxBytes
  const header = imageHeader(bytes);
  if (!header) throw ValidationError.field(field, 'is not an image that can be read', ALLOWED);
  const { format, width, height } = header;
  if (width < 1 || height < 1 || width > LIMITS.maxSide || height > LIMITS.maxSide) {
    throw ValidationError.field(
      field,
      `is ${width}x${height}`,
      `at most ${LIMITS.maxSide} pixels a side`,
    );
  }
  return { bytes, contentType: FORMATS[format], ext: format };
}
