/**
 * Where the red object of a clip's frame is: the centroid of its clearly red pixels (R > 150,
 * G and B < 100) in an RGB row-major frame, x right and y down, or null when there are none.
 * The direction probe (video-direction-probe.ts) and the shipped video model's test track a red
 * circle with it.
 */
export function redCentroid(rgb: Uint8Array, width: number): [number, number] | null {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    if ((rgb[i] ?? 0) > 150 && (rgb[i + 1] ?? 255) < 100 && (rgb[i + 2] ?? 255) < 100) {
      const p = i / 3;
      sx += p % width;
      sy += Math.floor(p / width);
      n += 1;
    }
  }
  return n ? [sx / n, sy / n] : null;
}
