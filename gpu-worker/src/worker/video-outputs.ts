import type { GenerationJob, GenerationOutput, StoredFile } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import { KEYS } from '../../../core/storage-layout.ts';
import type { Logger } from '../../../core/logger.ts';
import { clipMetadata, encodeClipOutputs, h264Encoder, MP4_MIME_TYPE } from '../media/index.ts';
import { MIME_TYPES } from '../sampler/index.ts';
import type { VideoResult } from '../sampler/video/index.ts';
import type { StoredOutputs } from './outputs.ts';
import type { Sampler } from './sampler-port.ts';

/**
 * Encodes each clip of a job (MP4 where an H.264 encoder exists, animated WebP and thumbnail
 * always) and uploads the files. The output's own key is the MP4, else the WebP, so a reader of
 * one file per output gets a playable one. Keys depend only on the job and the index, so a
 * retried attempt overwrites rather than adds.
 */
export async function storeClipOutputs(
  blobs: BlobStore,
  job: GenerationJob,
  clips: readonly VideoResult[],
  modelLabel: string,
  ffmpeg: string,
): Promise<StoredOutputs> {
  const encodeStart = performance.now();
  const encoded = await Promise.all(
    clips.map(async (clip) => ({
      clip,
      files: await encodeClipOutputs(clip.frames, {
        width: clip.width,
        height: clip.height,
        fps: clip.fps,
        metadata: clipMetadata(clip, modelLabel),
        ffmpeg,
      }),
    })),
  );
  const encodeMs = performance.now() - encodeStart;
  const uploadStart = performance.now();
  const outputs = await Promise.all(
    encoded.map(async ({ clip, files }, index): Promise<GenerationOutput> => {
      const put = async (
        file: 'mp4' | 'webp' | 'thumbnail',
        bytes: Buffer,
        contentType: string,
      ): Promise<StoredFile> => {
        const key = KEYS.videoOutput(job.tenant, job.id, index, file);
        await blobs.put(key, bytes, contentType);
        return { key, contentType, bytes: bytes.byteLength };
      };
      const [mp4, webp, thumbnail] = await Promise.all([
        files.mp4 && put('mp4', files.mp4, MP4_MIME_TYPE),
        put('webp', files.webp, MIME_TYPES.webp),
        put('thumbnail', files.thumbnail, MIME_TYPES.png),
      ]);
      const main = mp4 ?? webp;
      return {
        ...main,
        index,
        seed: clip.seed,
        width: clip.width,
        height: clip.height,
        video: {
          frames: clip.frames.length,
          fps: clip.fps,
          durationSeconds: clip.frames.length / clip.fps,
          ...(mp4 ? { mp4 } : {}),
          webp,
          thumbnail,
          ...(files.note === undefined ? {} : { note: files.note }),
        },
      };
    }),
  );
  return { outputs, encodeMs, uploadMs: performance.now() - uploadStart };
}

/**
 * Says once, at startup and only where a video model is served, whether its clips get an MP4:
 * a missing encoder is no failure (WebP only, each output says why), so without this line an
 * operator would learn of it from the outputs alone.
 */
export async function logH264Availability(
  sampler: Pick<Sampler, 'models'>,
  ffmpeg: string,
  logger: Logger,
): Promise<void> {
  if (![...sampler.models.values()].some((m) => m.modality === 'video')) return;
  const encoder = await h264Encoder(ffmpeg);
  if (encoder.available) logger.info('video: MP4 (H.264) available', { ffmpeg });
  else
    logger.warn('video: no H.264 encoder, clips come as animated WebP only', {
      note: encoder.note,
    });
}
