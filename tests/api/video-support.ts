import type { GenerationData, GenerationJob, GenerationOutput } from '../../core/generation.ts';
import { transition } from '../../core/job.ts';
import type { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import type { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { StaticModelCatalog, type ModelInfo } from '../../core/model-catalog.ts';
import { KEYS } from '../../core/storage-layout.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { MODEL_DIR } from './harness.ts';

export const VIDEO_MODEL = 'shapes-video-s';

/**
 * The shipped image model and a video model as the catalog would describe shapes-video-s (the
 * contract's manifest): the API only reads ModelInfo, so no video model folder is needed.
 */
export async function videoCatalog(): Promise<StaticModelCatalog> {
  const [image] = (await loadModelCatalog([MODEL_DIR])).list();
  if (!image) throw new Error('no shipped model');
  const video: ModelInfo = {
    ...image,
    id: VIDEO_MODEL,
    description: 'test video model',
    sizes: [
      [128, 128],
      [192, 128],
      [128, 192],
    ],
    video: {
      frames: { min: 8, max: 24, multipleOf: 2 },
      defaultFrames: 16,
      fps: 8,
      imageToVideo: true,
      extend: true,
      extendContextFrames: 4,
    },
  };
  return new StaticModelCatalog([image, video]);
}

/** Plays the worker's part for a video job: every clip stored as its three files (MP4 optional). */
export async function completeVideoJob(
  jobs: MemoryJobStore,
  blobs: MemoryBlobStore,
  tenant: string,
  id: string,
  { mp4 = true }: { mp4?: boolean } = {},
): Promise<GenerationJob> {
  const queued = await jobs.get<GenerationData>(tenant, id);
  const p = queued.data.params;
  if (p.modality !== 'video') throw new Error(`${id} is not a video job`);
  const running = transition(queued, 'running', new Date());
  await jobs.put(running, queued.version);
  const outputs: GenerationOutput[] = [];
  for (let index = 0; index < p.numImages; index++) {
    const file = async (key: string, contentType: string, text: string) => {
      const bytes = new TextEncoder().encode(text);
      await blobs.put(key, bytes, contentType);
      return { key, contentType, bytes: bytes.byteLength };
    };
    const webp = await file(
      KEYS.videoOutput(tenant, id, index, 'webp'),
      'image/webp',
      `webp${index}`,
    );
    const thumbnail = await file(
      KEYS.videoOutput(tenant, id, index, 'thumbnail'),
      'image/png',
      `png${index}`,
    );
    const movie = mp4
      ? await file(KEYS.videoOutput(tenant, id, index, 'mp4'), 'video/mp4', `mp4${index}`)
      : undefined;
    const main = movie ?? webp;
    outputs.push({
      ...main,
      index,
      seed: p.seed + index,
      width: p.width,
      height: p.height,
      video: {
        frames: p.frames,
        fps: p.fps,
        durationSeconds: p.frames / p.fps,
        mp4: movie,
        webp,
        thumbnail,
        note: movie ? undefined : 'no H.264 encoder: ffmpeg was not found',
      },
    });
  }
  const done: GenerationJob = {
    ...transition(running, 'succeeded', new Date()),
    data: { ...running.data, outputs },
  };
  await jobs.put(done, running.version);
  return done;
}
