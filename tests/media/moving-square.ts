/**
 * Test clips whose frames differ: a square moving right over a fixed background, so a decoder
 * that repeats, drops or reorders frames puts the square in the wrong place.
 */
export const BACKGROUND = [32, 96, 160] as const;
export const SQUARE = [240, 200, 40] as const;

export interface MovingSquare {
  readonly width: number;
  readonly height: number;
  readonly frames: Uint8Array[];
  /** Left edge of the square in frame i (its top is fixed at `top`). */
  readonly left: (i: number) => number;
  readonly top: number;
  readonly side: number;
}

export function movingSquare(width: number, height: number, count: number): MovingSquare {
  const side = Math.max(4, Math.floor(height / 4) & ~1);
  const top = Math.floor((height - side) / 2);
  const step = Math.max(1, Math.floor((width - side) / Math.max(1, count - 1)));
  const left = (i: number) => Math.min(i * step, width - side);
  const frames = Array.from({ length: count }, (_, i) => {
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inside = x >= left(i) && x < left(i) + side && y >= top && y < top + side;
        rgb.set(inside ? SQUARE : BACKGROUND, (y * width + x) * 3);
      }
    }
    return rgb;
  });
  return { width, height, frames, left, top, side };
}

/**
 * The left edge of the square in decoded pixels (RGB or RGBA rows, `channels` bytes a pixel):
 * the first pixel of the square's middle row that is closer to the square's colour than to the
 * background's.
 */
export function squareLeftIn(
  pixels: Uint8Array,
  width: number,
  channels: number,
  row: number,
): number {
  for (let x = 0; x < width; x++) {
    const at = (row * width + x) * channels;
    let toSquare = 0;
    let toBackground = 0;
    for (let c = 0; c < 3; c++) {
      const v = pixels[at + c] ?? 0;
      toSquare += Math.abs(v - (SQUARE[c] ?? 0));
      toBackground += Math.abs(v - (BACKGROUND[c] ?? 0));
    }
    if (toSquare < toBackground) return x;
  }
  return -1;
}

/** Mean absolute difference per byte of two RGB images. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return sum / a.length;
}
