import { promisify } from 'node:util';
import { deflate as deflateCallback, inflateSync } from 'node:zlib';

const deflate = promisify(deflateCallback);
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A small, dependency-free PNG writer (8-bit RGB) with text chunks, and a reader for those
 * chunks. Why not sharp: sharp cannot write PNG tEXt chunks, and PNG output from plain zlib is
 * byte-identical for identical input, which makes "same seed → same file" testable. It also
 * keeps PNG output free of native image libraries on the GPU machine.
 */

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as PNG uses it). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** tEXt holds Latin-1 without NUL bytes. */
function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code > 0xff) return false;
  }
  return true;
}

/**
 * One text chunk: tEXt when the value is Latin-1 (what every viewer shows), otherwise iTXt
 * with UTF-8 text (uncompressed, no language tag). Keywords are 1–79 printable Latin-1 chars.
 */
function textChunk(keyword: string, value: string): Buffer {
  if (!/^[\u0020-\u007e\u00a1-\u00ff]{1,79}$/.test(keyword) || keyword.trim() !== keyword) {
    throw new RangeError(`invalid PNG text keyword: ${JSON.stringify(keyword)}`);
  }
  const key = Buffer.from(keyword, 'latin1');
  if (isLatin1(value)) {
    return chunk('tEXt', Buffer.concat([key, Buffer.of(0), Buffer.from(value, 'latin1')]));
  }
  // keyword \0, compression flag 0, method 0, language tag "" \0, translated keyword "" \0, text
  return chunk('iTXt', Buffer.concat([key, Buffer.of(0, 0, 0, 0, 0), Buffer.from(value, 'utf8')]));
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Writes filter type `filter` (None, Sub, Up, Average, Paeth) of `row` into `line` and returns
 * its cost (the sum of the bytes as signed values' magnitudes). Kept tight (no closure per filter,
 * no call per byte) because the encoder runs on the worker's event loop.
 */
function filterRow(filter: number, row: Uint8Array, up: Uint8Array, line: Uint8Array): number {
  const n = row.length;
  let cost = 0;
  for (let i = 0; i < n; i++) {
    const x = row[i] ?? 0;
    const a = i >= 3 ? (row[i - 3] ?? 0) : 0;
    const b = up[i] ?? 0;
    let predicted: number;
    if (filter === 0) predicted = 0;
    else if (filter === 1) predicted = a;
    else if (filter === 2) predicted = b;
    else if (filter === 3) predicted = (a + b) >>> 1;
    else predicted = paeth(a, b, i >= 3 ? (up[i - 3] ?? 0) : 0);
    const v = (x - predicted) & 0xff;
    line[i] = v;
    cost += v < 128 ? v : 256 - v;
  }
  return cost;
}

// Rows filtered between two yields to the event loop: filtering a whole 128×128 image took ~3 ms
// of JS, and a batch of images encoded back to back held a worker's loop for tens of ms (a CPU
// profile of bench/continuous-batching.bench.ts); 16 rows take well under a millisecond.
const ROWS_PER_SLICE = 16;

/**
 * Filters every scanline with the filter (None, Sub, Up, Average, Paeth) whose output has the
 * smallest sum of absolute values: libpng's default heuristic, which makes IDAT compress well.
 */
async function filterScanlines(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  const stride = width * 3;
  const out = Buffer.alloc(height * (stride + 1));
  const candidates = Array.from({ length: 5 }, () => new Uint8Array(stride));
  const zeros = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = rgb.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? rgb.subarray((y - 1) * stride, y * stride) : zeros;
    let best = 0;
    let bestCost = Infinity;
    for (let filter = 0; filter < 5; filter++) {
      const cost = filterRow(filter, row, up, candidates[filter] ?? zeros);
      if (cost < bestCost) {
        bestCost = cost;
        best = filter;
      }
    }
    const offset = y * (stride + 1);
    out[offset] = best;
    out.set(candidates[best] ?? zeros, offset + 1);
    if ((y + 1) % ROWS_PER_SLICE === 0 && y + 1 < height) await yieldToLoop();
  }
  return out;
}

/**
 * Encodes uint8 RGB HWC pixels as a PNG with the given text chunks (in insertion order). The
 * deflate runs on libuv's thread pool: done synchronously at level 9 it was most of the worker's
 * event-loop time and held the loop for tens of milliseconds (docs/performance.md).
 */
export async function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  text: Readonly<Record<string, string>> = {},
): Promise<Buffer> {
  if (pixels.length !== width * height * 3) {
    throw new RangeError(`expected ${width}×${height}×3 bytes, got ${pixels.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolor RGB, deflate, adaptive filtering, no interlace
  const textChunks = Object.entries(text).map(([k, v]) => textChunk(k, v));
  const data = await deflate(await filterScanlines(pixels, width, height), { level: 6 });
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    ...textChunks,
    chunk('IDAT', data),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The tEXt, iTXt (uncompressed or deflated) and zTXt chunks of a PNG, keyword → text. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new RangeError('not a PNG file');
  const text: Record<string, string> = {};
  for (let pos = 8; pos + 12 <= buf.length;) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    const nul = data.indexOf(0);
    const keyword = data.toString('latin1', 0, nul);
    if (type === 'tEXt') {
      text[keyword] = data.toString('latin1', nul + 1);
    } else if (type === 'zTXt') {
      text[keyword] = inflateSync(data.subarray(nul + 2)).toString('latin1');
    } else if (type === 'iTXt') {
      const compressed = data[nul + 1] === 1;
      const languageEnd = data.indexOf(0, nul + 3);
      const translatedEnd = data.indexOf(0, languageEnd + 1);
      const body = data.subarray(translatedEnd + 1);
      text[keyword] = (compressed ? inflateSync(body) : body).toString('utf8');
    }
    pos += 12 + length;
  }
  return text;
}
