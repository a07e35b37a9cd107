/** Small helpers shared by the benches: order statistics, a timer and the report printer. */

/** The q-quantile (0..1) by nearest rank; NaN for no samples. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** The middle sample, the upper of the two for an even count: one measured run (GPU benches). */
export const middle = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Milliseconds that `run` took. */
export async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Runs `run` `n` times and returns each run's milliseconds. */
export async function repeatMs(n: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await timeMs(run));
  return out;
}

/** ‖got − want‖ / ‖want‖ over two arrays of one length. */
export function relativeL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? 0;
    diff += ((got[i] ?? 0) - w) ** 2;
    norm += w ** 2;
  }
  return Math.sqrt(diff / norm);
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** A plain-text table: the header row, then one row per entry, columns padded. */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells.reduce<number[]>(
    (w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)),
    [],
  );
  return cells
    .map((r, j) => {
      const line = r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
      return j === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : line;
    })
    .join('\n');
}

/** Prints the human table, then the JSON summary on one line prefixed by `BENCH_JSON `. */
export function report(name: string, human: string, summary: object): void {
  console.log(`\n== ${name} ==\n${human}\n`);
  console.log(`BENCH_JSON ${JSON.stringify({ bench: name, ...summary })}`);
}

/** The machine the numbers came from. */
export async function machine(): Promise<Record<string, string | number>> {
  const os = await import('node:os');
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}
