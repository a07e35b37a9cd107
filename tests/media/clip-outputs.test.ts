import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeClipOutputs } from '../../gpu-worker/src/media/index.ts';
import { movingSquare } from './moving-square.ts';
import { ffprobe } from './probe.ts';

const clip = movingSquare(64, 32, 8);
const options = {
  width: clip.width,
  height: clip.height,
  fps: 8,
  metadata: { prompt: 'a square', seed: '5' },
};

describe('encodeClipOutputs', () => {
  it('makes the MP4, the animated WebP and the thumbnail where ffmpeg has libx264', async () => {
    const out = await encodeClipOutputs(clip.frames, options);
    expect(out.note).toBeUndefined();
    expect((await ffprobe(out.mp4 ?? Buffer.alloc(0))).streams[0]?.nb_read_frames).toBe('8');
    expect((await sharp(out.webp, { animated: true }).metadata()).pages).toBe(8);
    expect((await sharp(out.thumbnail).metadata()).format).toBe('png');
  });

  it('leaves the MP4 out with a note, and still makes the rest, where ffmpeg is missing', async () => {
    const out = await encodeClipOutputs(clip.frames, { ...options, ffmpeg: '/nonexistent/ffmpeg' });
    expect(out.mp4).toBeUndefined();
    expect(out.note).toMatch(/^MP4 left out: no ffmpeg here/);
    expect((await sharp(out.webp, { animated: true }).metadata()).pages).toBe(8);
    expect((await sharp(out.thumbnail).metadata()).width).toBe(64);
  });
});
