import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/temp-dir.ts';

const execFileAsync = promisify(execFile);

export interface Probe {
  readonly streams: {
    readonly codec_name: string;
    readonly pix_fmt: string;
    readonly width: number;
    readonly height: number;
    readonly r_frame_rate: string;
    readonly nb_read_frames: string;
    readonly color_space?: string;
  }[];
  readonly format: { readonly duration: string; readonly tags?: Record<string, string> };
}

async function asFile(mp4: Buffer): Promise<string> {
  const path = join(await tempDir('ditserve-probe-'), 'clip.mp4');
  await writeFile(path, mp4);
  return path;
}

/** ffprobe's view of a file, every frame decoded and counted (-count_frames). */
export async function ffprobe(mp4: Buffer): Promise<Probe> {
  const { stdout } = await execFileAsync('ffprobe', [
    ...['-v', 'error', '-count_frames', '-of', 'json'],
    ...['-show_entries', 'stream:format=duration:format_tags', await asFile(mp4)],
  ]);
  return JSON.parse(stdout) as Probe;
}

/** The video decoded back to RGB, one buffer per frame, with the matrix the file is tagged with. */
export async function decodeFrames(mp4: Buffer, width: number, height: number) {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    [
      ...['-v', 'error', '-i', await asFile(mp4)],
      ...['-vf', 'scale=in_color_matrix=bt709:in_range=tv', '-f', 'rawvideo'],
      ...['-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  const size = width * height * 3;
  return Array.from({ length: stdout.length / size }, (_, i) =>
    stdout.subarray(i * size, (i + 1) * size),
  );
}

/** The types of an ISO BMFF file's top-level boxes, in file order. */
export function topLevelBoxes(file: Buffer): string[] {
  const types: string[] = [];
  for (let pos = 0; pos + 8 <= file.length;) {
    let size = file.readUInt32BE(pos);
    types.push(file.toString('latin1', pos + 4, pos + 8));
    if (size === 1) size = Number(file.readBigUInt64BE(pos + 8));
    else if (size === 0) size = file.length - pos;
    if (size < 8) throw new Error(`bad box size ${size} at ${pos}`);
    pos += size;
  }
  return types;
}
