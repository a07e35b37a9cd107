import type { GenerationOutput } from '../generation.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { BuildEventOptions, ClipUrls } from './events.ts';

/**
 * Signed URLs of every file of a job's outputs, as an event carries them: each output's main
 * file, and for a clip its MP4, WebP and thumbnail too. Used wherever an event with outputs is
 * built (the job's settling, a redelivery), so the two never differ.
 */
export async function signEventUrls(
  blobs: Pick<BlobStore, 'signedUrl'>,
  outputs: readonly GenerationOutput[],
  ttlSeconds: number,
): Promise<Pick<BuildEventOptions, 'outputUrls' | 'clipUrls'>> {
  const sign = async (key: string) => (await blobs.signedUrl(key, ttlSeconds)).url;
  const outputUrls: (string | undefined)[] = [];
  const clipUrls: (ClipUrls | undefined)[] = [];
  await Promise.all(
    outputs.map(async (o) => {
      outputUrls[o.index] = await sign(o.key);
      const clip = o.video;
      if (!clip) return;
      const [mp4, webp, thumbnail] = await Promise.all([
        clip.mp4 && sign(clip.mp4.key),
        sign(clip.webp.key),
        sign(clip.thumbnail.key),
      ]);
      clipUrls[o.index] = { ...(mp4 === undefined ? {} : { mp4 }), webp, thumbnail };
    }),
  );
  return { outputUrls, ...(clipUrls.length > 0 ? { clipUrls } : {}) };
}
