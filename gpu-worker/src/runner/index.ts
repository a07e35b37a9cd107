/** The Runner port and its two adapters (docs/native-runner.md). */
export * from './runner.ts';
export * from './errors.ts';
export { openRunner } from './open-runner.ts';
export {
  openStockRunner,
  stockRunnerFrom,
  cudaListed,
  quietOnnxruntimeLog,
} from './stock-runner.ts';
export { openNativeRunner, type NativeRunnerOptions } from './native-runner.ts';
export { PerShapeRunner } from './per-shape-runner.ts';
