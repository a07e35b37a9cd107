import type { GenerationJob, GenerationOutput, OutputFormat } from '../../../core/generation.ts';
import type { BlobStore } from '../../../core/ports/blob-store.ts';
import { KEYS } from '../../../core/storage-layout.ts';
import { encodeImage, metadataFor, MIME_TYPES, type GenerationResult } from '../sampler/index.ts';

/** Where output `index` of a job lives in the blob store. */
export function outputKey(job: GenerationJob, index: number, format: OutputFormat): string {
  return KEYS.output(job.tenant, job.id, index, format);
}

export interface StoredOutputs {
  readonly outputs: GenerationOutput[];
  readonly encodeMs: number;
  readonly uploadMs: number;
}

/**
 * Encodes a job's images (with their parameters as metadata) and uploads them. Keys depend only
 * on the job and the index, so a retried attempt overwrites rather than adds.
 */
export async function storeOutputs(
  blobs: BlobStore,
  job: GenerationJob,
  images: readonly GenerationResult[],
  modelLabel: string,
): Promise<StoredOutputs> {
  const format = job.data.params.outputFormat;
  const encodeStart = performance.now();
  const files = await Promise.all(
    images.map(async (image, index) => ({
      index,
      image,
      bytes: await encodeImage(
        { width: image.width, height: image.height, pixels: image.pixels },
        format,
        metadataFor({
          prompt: image.prompt,
          negativePrompt: image.negativePrompt,
          seed: image.seed,
          steps: image.steps,
          guidanceScale: image.guidanceScale,
          sampler: image.sampler,
          model: modelLabel,
        }),
      ),
    })),
  );
  const encodeMs = performance.now() - encodeStart;
  const uploadStart = performance.now();
  const outputs = await Promise.all(
    files.map(async ({ bytes, index, image }) => {
      const key = outputKey(job, index, format);
      await blobs.put(key, bytes, MIME_TYPES[format]);
      return {
        key,
        index,
        seed: image.seed,
        contentType: MIME_TYPES[format],
        bytes: bytes.byteLength,
        width: image.width,
        height: image.height,
      };
    }),
  );
  return { outputs, encodeMs, uploadMs: performance.now() - uploadStart };
}
