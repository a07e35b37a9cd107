import { decodeLatents } from './components.ts';
import type { DitModel } from './model.ts';
import { toRgb8, unscaleLatents } from './pixels.ts';
import type { ResolvedRequest } from './request.ts';
import type { EncodedPrompt } from './tokenizer.ts';
import type { GenerationResult } from './generate.ts';

/**
 * Steps (7)–(8) of both generate paths: latents back to pixels, then one result per request.
 */

/** `rows` latents of one size → RGB planes in [−1, 1]: unscaled and decoded, or as they are. */
export async function decodeRows(
  model: DitModel,
  latents: Float32Array,
  rows: number,
  latentShape: readonly [number, number, number],
  width: number,
  height: number,
): Promise<Float32Array> {
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
  if (rgb.length !== rows * 3 * width * height) {
    throw new Error(`decoder returned ${rgb.length} values, expected ${rows}×3×${height}×${width}`);
  }
  return rgb;
}

/** The result of one request: its uint8 pixels and what its texts lost to the tokenizer. */
export function resultOf(
  request: ResolvedRequest,
  rgb: Float32Array,
  cond: EncodedPrompt | undefined,
  uncond: EncodedPrompt | undefined,
): GenerationResult {
  return {
    ...request,
    pixels: toRgb8(rgb, request.width, request.height),
    unknownWords: [...new Set([...(cond?.unknownWords ?? []), ...(uncond?.unknownWords ?? [])])],
    truncated: (cond?.truncated ?? false) || (uncond?.truncated ?? false),
  };
}
