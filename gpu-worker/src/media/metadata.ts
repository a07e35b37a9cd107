import { metadataFor } from '../sampler/encode.ts';
import type { VideoResult } from '../sampler/video/index.ts';

/**
 * The generation parameters a clip's files carry: either the key/value map the PNG encoder
 * writes as text chunks (sampler/encode.ts metadataFor), or one JSON string the caller made.
 */
export type ClipMetadata = Readonly<Record<string, string>> | string;

/** The parameters as one JSON string: the MP4 `comment` tag and the WebP's EXIF description. */
export function parametersJson(metadata: ClipMetadata): string {
  return typeof metadata === 'string' ? metadata : JSON.stringify(metadata);
}

/**
 * The PNG text chunks of the thumbnail: the map as it is (the chunks an image gets), a JSON
 * string under the `parameters` keyword.
 */
export function pngText(metadata: ClipMetadata): Readonly<Record<string, string>> {
  return typeof metadata === 'string' ? { parameters: metadata } : metadata;
}

/**
 * The parameters a clip's files carry: an image's (metadataFor), plus what only a clip has. The
 * worker's stored clips and `ditserve generate` files both take theirs from here, so the two
 * carry the same keys.
 */
export function clipMetadata(clip: VideoResult, modelLabel: string): Record<string, string> {
  const r = clip.request;
  return {
    ...metadataFor({ ...r, model: modelLabel }),
    frames: String(clip.frames.length),
    fps: String(clip.fps),
    mode: r.mode,
  };
}
