import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeImage, metadataFor } from '../../gpu-worker/src/sampler/encode.ts';
import { crc32, encodePng, readPngText } from '../../gpu-worker/src/sampler/png.ts';

/** A 3×2 test pattern, RGB HWC. */
const pixels = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37) % 256);

/** Decodes our own PNGs back to RGB (IDAT inflate + scanline unfiltering). */
function decodePng(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let pos = 8; pos < png.length;) {
    const length = png.readUInt32BE(pos);
    if (png.toString('latin1', pos + 4, pos + 8) === 'IDAT')
      idat.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    for (let i = 0; i < stride; i++) {
      const a = i >= 3 ? (rgb[y * stride + i - 3] ?? 0) : 0;
      const b = y > 0 ? (rgb[(y - 1) * stride + i] ?? 0) : 0;
      const c = i >= 3 && y > 0 ? (rgb[(y - 1) * stride + i - 3] ?? 0) : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter] ?? 0;
      rgb[y * stride + i] = ((raw[y * (stride + 1) + 1 + i] ?? 0) + predictor) & 0xff;
    }
  }
  return { width, height, rgb };
}

describe('crc32', () => {
  it('matches the standard check value of "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('encodePng', () => {
  it('round-trips the pixels and size', async () => {
    const decoded = decodePng(await encodePng(pixels, 3, 2));
    expect(decoded.width).toBe(3);
    expect(decoded.height).toBe(2);
    expect([...decoded.rgb]).toEqual([...pixels]);
  });

  it('stores Latin-1 text as tEXt and other text as UTF-8 iTXt, readable back', async () => {
    const png = await encodePng(pixels, 3, 2, {
      prompt: 'a red circle',
      negative_prompt: 'ruß, 青い',
    });
    expect(png.includes(Buffer.from('tEXtprompt\0a red circle', 'latin1'))).toBe(true);
    expect(png.includes(Buffer.from('iTXtnegative_prompt', 'latin1'))).toBe(true);
    expect(readPngText(png)).toEqual({ prompt: 'a red circle', negative_prompt: 'ruß, 青い' });
  });

  it('is byte-identical for identical input', async () => {
    expect(
      (await encodePng(pixels, 3, 2, { seed: '7' })).equals(
        await encodePng(pixels, 3, 2, { seed: '7' }),
      ),
    ).toBe(true);
  });

  it('rejects a pixel buffer of the wrong size and an invalid keyword', async () => {
    await expect(encodePng(pixels, 4, 2)).rejects.toThrow(RangeError);
    await expect(encodePng(pixels, 3, 2, { '': 'x' })).rejects.toThrow(/keyword/);
  });
});

describe('encodeImage', () => {
  const metadata = metadataFor({
    prompt: 'a red circle',
    negativePrompt: '',
    seed: 7,
    steps: 20,
    guidanceScale: 4,
    sampler: 'euler',
    model: 'shapes-mmdit-s@1.0.0',
  });

  it('writes the documented metadata keys into PNG text chunks', async () => {
    const png = await encodeImage({ width: 3, height: 2, pixels }, 'png', metadata);
    expect(readPngText(png)).toEqual({
      prompt: 'a red circle',
      negative_prompt: '',
      seed: '7',
      steps: '20',
      guidance_scale: '4',
      sampler: 'euler',
      model: 'shapes-mmdit-s@1.0.0',
      Software: 'ditserve',
    });
  });

  it('writes WebP and JPEG through sharp, with the metadata as JSON in EXIF', async () => {
    const { default: sharp } = await import('sharp');
    for (const format of ['webp', 'jpeg'] as const) {
      const file = await encodeImage({ width: 3, height: 2, pixels }, format, metadata);
      const info = await sharp(file).metadata();
      expect(info.format).toBe(format);
      expect([info.width, info.height]).toEqual([3, 2]);
      expect(info.exif?.includes(Buffer.from('"prompt":"a red circle"'))).toBe(true);
    }
  });
});
