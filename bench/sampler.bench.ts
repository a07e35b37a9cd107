/**
 * Batched vs sequential sampling on one device, in one process:
 *   generate([4 requests]) against 4 × generate([1 request]).
 * Uses models/shapes-mmdit-s when present, else the closed-form test model (which measures
 * per-call overhead only: its graphs do almost no arithmetic). Prints which one it used.
 *
 *   npm run bench [-- --device cpu|cuda|auto --rounds 3 --threads N --model <dir>]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeTestModel } from '../tests/helpers/test-model.ts';
import {
  generate,
  loadModel,
  type DeviceOption,
  type GenerationRequest,
} from '../gpu-worker/src/sampler/index.ts';
import { middle } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
  },
});
const rounds = Number(values.rounds);

let scratch: string | null = null;
let modelDir = values.model;
if (!existsSync(join(modelDir, 'model_index.json'))) {
  scratch = await mkdtemp(join(tmpdir(), 'ditserve-bench-'));
  modelDir = await writeTestModel(scratch);
  console.log(
    `model: ${values.model} not found, using the closed-form test model (overhead only) at ${modelDir}`,
  );
} else {
  console.log(`model: ${modelDir}`);
}

const model = await loadModel(modelDir, {
  device: values.device as DeviceOption,
  ...(values.threads === undefined ? {} : { threads: Number(values.threads) }),
});
const { defaults } = model.config.manifest;
console.log(
  `device: ${model.device}${model.fallbackReason ? ` (${model.fallbackReason})` : ''}; ` +
    `${defaults.width}x${defaults.height}, ${defaults.steps} ${defaults.sampler} steps, guidance ${defaults.guidanceScale}`,
);

const prompts = ['a red circle', 'a blue square', 'a green triangle', 'a small red square'];
const requests: GenerationRequest[] = prompts.map((prompt, i) => ({ prompt, seed: 100 + i }));

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

await generate(model, requests); // warm-up at the benchmark's shapes, not counted
const batched: number[] = [];
const sequential: number[] = [];
for (let r = 0; r < rounds; r++) {
  batched.push(await timed(() => generate(model, requests)));
  sequential.push(
    await timed(async () => {
      for (const request of requests) await generate(model, [request]);
    }),
  );
}
await model.release();
if (scratch) await rm(scratch, { recursive: true, force: true });

const [b, s] = [middle(batched), middle(sequential)];
console.log(`batched   generate([4])  : ${b.toFixed(1)} ms (median of ${rounds})`);
console.log(`sequential 4 × generate([1]): ${s.toFixed(1)} ms (median of ${rounds})`);
console.log(`speed-up of batching: ${(s / b).toFixed(2)}× (sequential / batched)`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
