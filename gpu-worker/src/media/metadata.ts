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
 * JSON text with every non-ASCII character as a \u escape: EXIF ASCII fields hold 7-bit text
 * only, and outside strings JSON has no such characters, so the value parses the same.
 */
export function asciiJson(json: string): string {
  return json.replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
