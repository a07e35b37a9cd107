/** A decoded picture: uint8 RGB, row-major HWC, width × height × 3 bytes. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Per output index along one axis: the source indices it averages and their weights. */
interface Taps {
  readonly index: Int32Array;
  readonly weight: Float64Array;
  readonly start: Int32Array;
}

/**
 * Box-filter taps for `out` pixels taken from the middle of `source` pixels scaled by `scale`:
 * output pixel i covers source [(i + o)/scale, (i + 1 + o)/scale) with o the centred crop, and
 * each source pixel weighs by its overlap. At scale 1 with no crop every pixel maps to itself.
 */
function taps(source: number, out: number, scale: number): Taps {
  const offset = (source * scale - out) / 2;
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(out + 1);
  for (let i = 0; i < out; i++) {
    start[i] = index.length;
    const a = (i + offset) / scale;
    const b = (i + 1 + offset) / scale;
    for (let j = Math.floor(a); j < Math.min(source, Math.ceil(b)); j++) {
      const overlap = Math.min(b, j + 1) - Math.max(a, j);
      if (overlap > 0) {
        index.push(Math.max(0, j));
        weight.push(overlap / (b - a));
      }
    }
  }
  start[out] = index.length;
  return { index: Int32Array.from(index), weight: Float64Array.from(weight), start };
}

/**
 * An image as a clip frame for the VAE encoder: scaled to cover width × height (aspect kept),
 * centre-cropped, area-averaged, as float32 CHW RGB in [−1, 1] (the inverse of the uint8
 * conversion of the output, u/127.5 − 1). Pure TypeScript: the GPU bundle may lack sharp.
 */
export function fitFrame(image: RgbImage, width: number, height: number): Float32Array {
  const scale = Math.max(width / image.width, height / image.height);
  const tx = taps(image.width, width, scale);
  const ty = taps(image.height, height, scale);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  // Rows first: one pass over the source rows each output row needs, for each output column.
  const row = new Float64Array(width * 3);
  for (let y = 0; y < height; y++) {
    row.fill(0);
    for (let t = ty.start[y] ?? 0; t < (ty.start[y + 1] ?? 0); t++) {
      const sy = ty.index[t] ?? 0;
      const wy = ty.weight[t] ?? 0;
      for (let x = 0; x < width; x++) {
        for (let s = tx.start[x] ?? 0; s < (tx.start[x + 1] ?? 0); s++) {
          const w = wy * (tx.weight[s] ?? 0);
          const p = (sy * image.width + (tx.index[s] ?? 0)) * 3;
          for (let c = 0; c < 3; c++)
            row[x * 3 + c] = (row[x * 3 + c] ?? 0) + w * (image.data[p + c] ?? 0);
        }
      }
    }
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++)
        out[c * plane + y * width + x] = (row[x * 3 + c] ?? 0) / 127.5 - 1;
    }
  }
  return out;
}

/** A clip frame (uint8 RGB HWC of the clip's size) as float32 CHW in [−1, 1], unresized. */
export function frameToChw(frame: Uint8Array, width: number, height: number): Float32Array {
  return fitFrame({ width, height, data: frame }, width, height);
}
