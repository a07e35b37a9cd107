import { openNativeRunner } from './native-runner.ts';
import type { Runner, RunnerKind, RunnerOptions } from './runner.ts';
import { openStockRunner } from './stock-runner.ts';

/** Opens `path` with the runner of the given kind (the sampler's `runner` load option). */
export function openRunner(
  kind: RunnerKind,
  path: string,
  options: RunnerOptions,
): Promise<Runner> {
  return kind === 'native' ? openNativeRunner(path, options) : openStockRunner(path, options);
}
