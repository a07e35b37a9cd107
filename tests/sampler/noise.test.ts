import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { latentNoise, philox4x32x10, standardNormal } from '../../gpu-worker/src/sampler/noise.ts';

interface NoiseVectors {
  cases: { seed: number; count: number; values: number[] }[];
  digests: { seed: number; count: number; sha256_float32_le: string }[];
}
// Written by gpu-worker/training/scripts/write_noise_vectors.py from the Python reference.
const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/noise-vectors.json', import.meta.url), 'utf8'),
) as NoiseVectors;

/** sha256 of the values as float32 little-endian bytes, whatever this machine's endianness. */
function digest(values: Float32Array): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  return createHash('sha256').update(new Uint8Array(view.buffer)).digest('hex');
}

describe('Philox4x32-10', () => {
  it('matches the known answer of docs/model-format.md (seed 0, block 0)', () => {
    const hex = [...philox4x32x10(0, 0, 0, 0)].map((x) => x.toString(16).padStart(8, '0'));
    expect(hex).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });
});

describe('standardNormal', () => {
  it.each(vectors.cases.map((c) => [c.seed, c]))(
    'reproduces the reference values bit for bit (seed %s)',
    (_, c) => {
      const values = standardNormal(c.seed, c.count);
      // JSON holds the float32 values as float64 decimals; Math.fround gives back the exact float32.
      expect([...values]).toEqual(c.values.map((v) => Math.fround(v)));
    },
  );

  it.each(vectors.digests.map((d) => [d.seed, d.count, d]))(
    'reproduces the sha256 of the reference stream (seed %s, %s values)',
    (_, __, d) => {
      expect(digest(standardNormal(d.seed, d.count))).toBe(d.sha256_float32_le);
    },
  );

  it('gives prefixes of one stream: normal n does not depend on how many are drawn', () => {
    expect([...standardNormal(7, 5)]).toEqual([...standardNormal(7, 8).subarray(0, 5)]);
  });

  it('rejects seeds that are not integers in [0, 2^53 − 1]', () => {
    expect(() => standardNormal(-1, 4)).toThrow(RangeError);
    expect(() => standardNormal(1.5, 4)).toThrow(RangeError);
    expect(() => standardNormal(2 ** 53, 4)).toThrow(RangeError);
  });
});

describe('latentNoise', () => {
  it('gives each sample the stream of its own seed, in C order', () => {
    const batch = latentNoise([7, 0], [2, 3, 4]);
    expect(batch).toHaveLength(2 * 24);
    expect([...batch.subarray(0, 24)]).toEqual([...standardNormal(7, 24)]);
    expect([...batch.subarray(24)]).toEqual([...standardNormal(0, 24)]);
  });
});
