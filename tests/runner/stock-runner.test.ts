import { openStockRunner } from '../../gpu-worker/src/runner/index.ts';
import { runnerContract } from './runner.contract.ts';

runnerContract('stock runner (onnxruntime-node)', openStockRunner);
