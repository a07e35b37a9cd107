import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { thumbnailPng } from '../../gpu-worker/src/media/index.ts';
import { readPngText } from '../../gpu-worker/src/sampler/png.ts';
import { movingSquare } from './moving-square.ts';

const clip = movingSquare(64, 32, 6);
const first = clip.frames[0] ?? new Uint8Array();

describe('thumbnailPng', () => {
  it('is frame 0, pixel for pixel, with the parameters as text chunks', async () => {
    const parameters = { prompt: 'a square', seed: '1' };
    const png = await thumbnailPng(first, { width: 64, height: 32, metadata: parameters });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ format: 'raw', width: 64, height: 32, channels: 3 });
    expect(Buffer.compare(data, Buffer.from(first))).toBe(0);
    expect(Buffer.compare(data, Buffer.from(clip.frames[1] ?? []))).not.toBe(0);
    expect(readPngText(png)).toEqual(parameters);
  });

  it('keeps a JSON string under `parameters`', async () => {
    const json = JSON.stringify({ prompt: '青い square' });
    const png = await thumbnailPng(first, { width: 64, height: 32, metadata: json });
    expect(readPngText(png)).toEqual({ parameters: json });
  });

  it('refuses a frame of the wrong size', async () => {
    await expect(thumbnailPng(first, { width: 32, height: 32 })).rejects.toThrow(RangeError);
  });
});
