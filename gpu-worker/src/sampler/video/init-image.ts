import { InvalidRequestError } from '../errors.ts';
import type { RgbImage } from './fit-frame.ts';

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0];

/**
 * An init image file (PNG, JPEG, WebP, …) as RGB pixels, through sharp (imported here only, so
 * that text-to-video runs where sharp is not installed). EXIF orientation is applied and alpha
 * flattened onto white (the clips' usual background), as a browser shows such a file. Bytes
 * sharp cannot read are the request's fault: InvalidRequestError naming initImage.
 */
export async function decodeInitImage(bytes: Uint8Array, where = 'request'): Promise<RgbImage> {
  const { default: sharp } = await import('sharp');
  try {
    const { data, info } = await sharp(bytes)
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data) };
  } catch (error) {
    throw new InvalidRequestError(
      `${where}: initImage is not an image that can be decoded (PNG, JPEG or WebP): ${firstLine(error)}`,
      { cause: error },
    );
  }
}
