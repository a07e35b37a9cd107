import type { OutputInfo } from 'sharp';
import type { GenerationJob, VideoGenerationParams } from '../../../core/generation.ts';
import { BlobNotFoundError, type BlobStore } from '../../../core/ports/blob-store.ts';
import { InvalidRequestError, perImageRequests } from '../sampler/index.ts';
import { decodeInitImage, type RgbImage, type VideoClipRequest } from '../sampler/video/index.ts';

/**
 * The frames the sampler makes for one clip of the job: an extension makes its context again
 * (the sampler is given it and drops it), so it asks for `frames + contextFrames`.
 */
export function samplerFrames(p: VideoGenerationParams): number {
  return p.frames + (p.extendOf?.contextFrames ?? 0);
}

/**
 * A blob the job names, or InvalidRequestError when it is gone: only the worker finds that out,
 * retrying cannot bring it back, and the message says what to do. Other read failures (the store
 * is down) stay transient and the job is retried.
 */
async function inputBlob(blobs: BlobStore, key: string, gone: string): Promise<Uint8Array> {
  try {
    return (await blobs.get(key)).bytes;
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw new InvalidRequestError(gone, { cause: error });
    throw error;
  }
}

/**
 * The frames of an animated WebP (a clip's own, at the clip's size), each uint8 RGB HWC. Bytes
 * that do not decode, or a size other than the job's, are the source's fault: not retryable.
 */
async function webpFrames(
  bytes: Uint8Array,
  width: number,
  height: number,
  where: string,
): Promise<Uint8Array[]> {
  const { default: sharp } = await import('sharp');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(bytes, { pages: -1 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new InvalidRequestError(`${where} does not decode as an animated WebP`, {
      cause: error,
    });
  }
  const { data, info } = decoded;
  const pages = info.pages ?? 1;
  // sharp stacks the pages one below the other: the image is height × pages rows tall.
  if (info.width !== width || info.height !== height * pages) {
    throw new InvalidRequestError(
      `${where} is ${info.width}x${info.height / pages}, not the clip size ${width}x${height}`,
    );
  }
  const size = width * height * 3;
  return Array.from(
    { length: pages },
    (_, i) => new Uint8Array(data.subarray(i * size, (i + 1) * size)),
  );
}

/** What every clip of a job starts from: an init image, the clip it extends, or nothing. */
async function givenFrames(
  blobs: BlobStore,
  job: GenerationJob,
  p: VideoGenerationParams,
): Promise<Pick<VideoClipRequest, 'initImage' | 'extendFrom'>> {
  if (p.initImageKey !== undefined) {
    const bytes = await inputBlob(
      blobs,
      p.initImageKey,
      `init_image of ${job.id} is gone from the store; submit the generation again`,
    );
    const initImage: RgbImage = await decodeInitImage(bytes, 'init_image');
    return { initImage };
  }
  const source = p.extendOf;
  if (source !== undefined) {
    const where = `clip ${source.clip} of ${source.generationId} (extend)`;
    const bytes = await inputBlob(
      blobs,
      source.key,
      `${where} is gone (its files were deleted); extend a generation that still has its files`,
    );
    const frames = await webpFrames(bytes, p.width, p.height, where);
    if (frames.length < source.contextFrames) {
      throw new InvalidRequestError(
        `${where} has ${frames.length} frames, fewer than the ${source.contextFrames} an extension starts from`,
      );
    }
    return { extendFrom: frames.slice(-source.contextFrames) };
  }
  return {};
}

/**
 * The sampler's clip requests for a video job, one per clip (clip n uses seed + n, as image n
 * does), with the inputs it names read from the blob store. Rejects with InvalidRequestError
 * where an input is gone or does not decode.
 */
export async function videoClipsOf(
  blobs: BlobStore,
  job: GenerationJob,
  p: VideoGenerationParams,
): Promise<VideoClipRequest[]> {
  const given = await givenFrames(blobs, job, p);
  return perImageRequests(p).map((request) => ({ ...request, frames: samplerFrames(p), ...given }));
}
