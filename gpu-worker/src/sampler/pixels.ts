/**
 * Converts a decoded image, float32 CHW RGB in [−1, 1], to uint8 HWC RGB the way the contract
 * says (docs/model-format.md): floor(clamp((x + 1) / 2, 0, 1) × 255 + 0.5).
 */
export function toRgb8(chw: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  if (chw.length !== 3 * plane) {
    throw new RangeError(`expected 3×${height}×${width} values, got ${chw.length}`);
  }
  const out = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const x = ((chw[c * plane + p] ?? 0) + 1) / 2;
      const clamped = x < 0 ? 0 : x > 1 ? 1 : x; // NaN stays NaN and becomes 0 below
      out[p * 3 + c] = Math.floor(clamped * 255 + 0.5);
    }
  }
  return out;
}

/** latents / scaling_factor + shift_factor: back to the VAE's own latent space. */
export function unscaleLatents(
  latents: Float32Array,
  scalingFactor: number,
  shiftFactor: number,
): Float32Array {
  // A plain loop: Float32Array.map's callback per value cost ~3 ms for 32 default latents.
  const out = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) {
    out[i] = (latents[i] ?? 0) / scalingFactor + shiftFactor;
  }
  return out;
}
