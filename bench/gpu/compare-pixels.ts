/**
 * Compares the pixels that `step-engine.mjs <path> DIR` saved (DIR/pixels-<path>-<batch>.bin, uint8
 * RGB of every image of the call) against today's path: per batch, the mean and largest
 * difference and the share of values that differ by more than 2 (docs/gpu.md).
 *
 *   node dist/bench-gpu/compare-pixels.mjs DIR     (or npx tsx bench/gpu/compare-pixels.ts DIR)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const load = (path: string, batch: number): Uint8Array | null => {
  const file = join(dir, `pixels-${path}-${batch}.bin`);
  return existsSync(file) ? new Uint8Array(readFileSync(file)) : null;
};

for (const batch of [1, 8, 32]) {
  const reference = load('stock', batch);
  if (!reference) continue;
  for (const path of ['host', 'graph']) {
    const other = load(path, batch);
    if (other?.length !== reference.length) continue;
    let sum = 0;
    let max = 0;
    let over2 = 0;
    reference.forEach((v, i) => {
      const d = Math.abs(v - (other[i] ?? 0));
      sum += d;
      max = Math.max(max, d);
      if (d > 2) over2 += 1;
    });
    const n = reference.length;
    console.log(
      JSON.stringify({
        part: 'pixels',
        batch,
        path,
        against: 'stock',
        meanDiff: sum / n,
        maxDiff: max,
        over2: over2 / n,
      }),
    );
  }
}
