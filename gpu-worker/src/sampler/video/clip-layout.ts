/**
 * A clip's latent is [C, F, h, w] (channel-major, as the transformer takes it); the per-frame VAE
 * takes and gives frames [N, C, h, w]. These move frames between the two layouts.
 */
export interface ClipShape {
  readonly channels: number;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

export function clipSize(s: ClipShape): number {
  return s.channels * s.frames * s.height * s.width;
}

/** Frame `t` of `clip` (offset `clipOffset` in a batch) as [C, h, w], written at `out[outOffset]`. */
export function copyFrameOut(
  clip: Float32Array,
  clipOffset: number,
  s: ClipShape,
  t: number,
  out: Float32Array,
  outOffset: number,
): void {
  const hw = s.height * s.width;
  for (let c = 0; c < s.channels; c++) {
    const from = clipOffset + (c * s.frames + t) * hw;
    out.set(clip.subarray(from, from + hw), outOffset + c * hw);
  }
}

/** The inverse: a [C, h, w] frame (at `frame[frameOffset]`) becomes frame `t` of the clip. */
export function copyFrameIn(
  frame: Float32Array,
  frameOffset: number,
  s: ClipShape,
  t: number,
  clip: Float32Array,
  clipOffset: number,
): void {
  const hw = s.height * s.width;
  for (let c = 0; c < s.channels; c++) {
    const from = frameOffset + c * hw;
    clip.set(frame.subarray(from, from + hw), clipOffset + (c * s.frames + t) * hw);
  }
}
