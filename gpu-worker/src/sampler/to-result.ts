import { decodeLatents, decodeToPixels } from './components.ts';
import type { DitModel } from './model.ts';
import { toRgb8, unscaleLatents } from './pixels.ts';
import type { ResolvedRequest } from './request.ts';
import type { EncodedPrompt } from './tokenizer.ts';
import type { GenerationResult } from './generate.ts';

/**
 * Steps (7)–(8) of both generate paths: latents back to pixels, then one result per request.
 */

/**
 * `rows` latents of one size → one uint8 RGB HWC image per row: in one run of the decode graph
 * where the model opened one (CUDA), else un-scaled, decoded and converted here (a pixel-space
 * model's latents are the RGB planes in [−1, 1]). A video model's frames decode the same way.
 */
export async function decodeImages(
  model: Pick<DitModel, 'config' | 'vaeDecoder' | 'pixelDecoder'>,
  latents: Float32Array,
  rows: number,
  latentShape: readonly [number, number, number],
  width: number,
  height: number,
): Promise<Uint8Array[]> {
  const plane = 3 * width * height;
  const expect = (length: number): void => {
    if (length !== rows * plane) {
      throw new Error(`decoder returned ${length} values, expected ${rows}×3×${height}×${width}`);
    }
  };
  if (model.pixelDecoder) {
    const pixels = await decodeToPixels(model.pixelDecoder, latents, rows, latentShape);
    expect(pixels.length);
    return Array.from({ length: rows }, (_, s) => pixels.subarray(s * plane, (s + 1) * plane));
  }
  const vae = model.config.vaeDecoder;
  const rgb =
    model.vaeDecoder && vae
      ? await decodeLatents(
          model.vaeDecoder,
          unscaleLatents(latents, vae.scalingFactor, vae.shiftFactor),
          rows,
          latentShape,
        )
      : latents;
  expect(rgb.length);
  return Array.from({ length: rows }, (_, s) =>
    toRgb8(rgb.subarray(s * plane, (s + 1) * plane), width, height),
  );
}

/** The result of one request: its uint8 pixels and what its texts lost to the tokenizer. */
export function resultOf(
  request: ResolvedRequest,
  pixels: Uint8Array,
  cond: EncodedPrompt | undefined,
  uncond: EncodedPrompt | undefined,
): GenerationResult {
  return {
    ...request,
    pixels,
    unknownWords: [...new Set([...(cond?.unknownWords ?? []), ...(uncond?.unknownWords ?? [])])],
    truncated: (cond?.truncated ?? false) || (uncond?.truncated ?? false),
  };
}
