import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeAnimatedWebp, frameDelays } from '../../gpu-worker/src/media/index.ts';
import { meanAbsDiff, movingSquare, squareLeftIn } from './moving-square.ts';

const clip = movingSquare(64, 32, 10);
const format = { width: clip.width, height: clip.height, fps: 8 };

/** The JSON in EXIF ImageDescription: IFD0's ASCII field 0x010e, read back through its offset. */
function imageDescription(exif: Buffer): string {
  const tiff = exif.indexOf('II*\0', 0, 'latin1');
  const u16 = (at: number) => exif.readUInt16LE(tiff + at);
  const u32 = (at: number) => exif.readUInt32LE(tiff + at);
  const ifd = u32(4);
  for (let i = 0; i < u16(ifd); i++) {
    const entry = ifd + 2 + i * 12;
    if (u16(entry) !== 0x010e) continue;
    const count = u32(entry + 4);
    const at = count <= 4 ? entry + 8 : u32(entry + 8);
    return exif.toString('latin1', tiff + at, tiff + at + count - 1);
  }
  throw new Error('no ImageDescription in the EXIF');
}

describe('encodeAnimatedWebp (sharp)', () => {
  it('has one page per frame, 1000/fps ms each, looping forever', async () => {
    const webp = await encodeAnimatedWebp(clip.frames, format);
    const meta = await sharp(webp, { animated: true }).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.pages).toBe(10);
    expect(meta.width).toBe(64);
    expect(meta.pageHeight).toBe(32);
    expect(meta.delay).toEqual(Array.from({ length: 10 }, () => 125));
    expect(meta.loop).toBe(0);
  });

  it('decodes to the frames, in order', async () => {
    const webp = await encodeAnimatedWebp(clip.frames, format);
    const { data, info } = await sharp(webp, { animated: true })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info.channels).toBe(3);
    const size = 64 * 32 * 3;
    expect(data.length).toBe(10 * size);
    clip.frames.forEach((frame, i) => {
      const page = data.subarray(i * size, (i + 1) * size);
      expect(squareLeftIn(page, 64, 3, clip.top + clip.side / 2), `frame ${i}`).toBe(clip.left(i));
      expect(meanAbsDiff(page, frame), `frame ${i}`).toBeLessThan(6);
    });
  });

  it('carries the parameters as JSON in EXIF ImageDescription (non-ASCII escaped)', async () => {
    const parameters = { prompt: 'ein gelbes Quadrat, ruß 青い', seed: '3' };
    const webp = await encodeAnimatedWebp(clip.frames, { ...format, metadata: parameters });
    const { exif } = await sharp(webp).metadata();
    expect(exif).toBeDefined();
    const description = imageDescription(exif ?? Buffer.alloc(0));
    expect(description).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(description)).toEqual(parameters);
  });

  it('spreads rounding over the frames so the clip keeps its length', () => {
    expect(frameDelays(8, 4)).toEqual([125, 125, 125, 125]);
    const at24 = frameDelays(24, 24);
    expect(at24.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(new Set(at24)).toEqual(new Set([41, 42]));
  });
});
