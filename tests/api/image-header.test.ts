import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageHeader } from '../../functions/api/services/image-header.ts';

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({ create: { width, height, channels, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } });

describe('imageHeader (init images checked without decoding)', () => {
  it('reads the format and size of PNG, JPEG (baseline and progressive) and every WebP kind', async () => {
    const cases = [
      ['png', await solid(37, 21).png().toBuffer(), 37, 21],
      ['jpeg', await solid(301, 17).jpeg().toBuffer(), 301, 17],
      ['jpeg', await solid(64, 48).jpeg({ progressive: true }).toBuffer(), 64, 48],
      ['webp', await solid(33, 19).webp({ lossless: false }).toBuffer(), 33, 19], // VP8
      ['webp', await solid(33, 19).webp({ lossless: true }).toBuffer(), 33, 19], // VP8L
      ['webp', await solid(50, 40, 4).webp({ lossless: false }).toBuffer(), 50, 40], // VP8X (alpha)
    ] as const;
    for (const [format, bytes, width, height] of cases) {
      expect(imageHeader(new Uint8Array(bytes)), `${format} ${width}x${height}`).toEqual({
        format,
        width,
        height,
      });
    }
  });

  it('reads a JPEG whose size comes after EXIF and other segments', async () => {
    const bytes = await solid(90, 70).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    expect(imageHeader(new Uint8Array(bytes))).toEqual({ format: 'jpeg', width: 90, height: 70 });
  });

  it('is null for other formats, empty or cut-short files and random bytes', async () => {
    const png = await solid(8, 8).png().toBuffer();
    const jpeg = await solid(8, 8).jpeg().toBuffer();
    const gif = Buffer.from('R0lGODlhAQABAAAAACw=', 'base64');
    for (const bytes of [
      gif,
      Buffer.alloc(0),
      png.subarray(0, 20),
      jpeg.subarray(0, 6),
      Buffer.from('RIFF....WEBPVP8 '),
    ]) {
      expect(imageHeader(new Uint8Array(bytes))).toBeNull();
    }
  });
});
