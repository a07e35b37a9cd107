import type { Sharp, SharpOptions } from 'sharp';
import { EncoderUnavailableError } from './errors.ts';

export type SharpFactory = (input: Uint8Array, options: SharpOptions) => Sharp;

let sharpModule: Promise<SharpFactory> | undefined;

const firstLine = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * sharp, imported once and lazily: PNG images, MP4 clips and PNG thumbnails work where it is not
 * installed (the GPU machine's bundle). Where it cannot load, the caller's message (given the
 * import error's first line) says what cannot be written; a later call tries again.
 */
export async function loadSharp(unavailable: (reason: string) => string): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (error: unknown) => {
      sharpModule = undefined;
      throw error;
    },
  );
  try {
    return await sharpModule;
  } catch (error) {
    throw new EncoderUnavailableError(unavailable(firstLine(error)), { cause: error });
  }
}
