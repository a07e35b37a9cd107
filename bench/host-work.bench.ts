/**
 * The host's share of one batch-32 call of the stepped sampler, the JavaScript that runs while
 * the GPU idles (docs/performance.md, "Shipped model"): tokenizing the 64 texts, the 32 latents'
 * noise, un-scaling them for the VAE, and the 32 images' pixel conversion. Middle of 5 rounds
 * after a warm-up round.
 *
 *   npx tsx bench/host-work.bench.ts [--model models/shapes-mmdit-s]
 */
import { parseArgs } from 'node:util';
import { readModelConfig } from '../gpu-worker/src/sampler/index.ts';
import { latentNoise } from '../gpu-worker/src/sampler/noise.ts';
import { toRgb8, unscaleLatents } from '../gpu-worker/src/sampler/pixels.ts';
import { PromptTokenizer } from '../gpu-worker/src/sampler/tokenizer.ts';
import { machine, middle, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: { model: { type: 'string', default: 'models/shapes-mmdit-s' } },
});
const BATCH = 32;
const config = await readModelConfig(values.model);
const tokenizer = new PromptTokenizer(config.tokenizerJson, config.tokenizerConfig);
const { width, height } = config.manifest.defaults;
const f = config.downsampleFactor;
const latent = [config.transformer.inChannels, height / f, width / f];
const prompt = 'a red circle left of a blue square';
const rgb = new Float32Array(3 * width * height).map(() => Math.random() * 2 - 1);
const latents = new Float32Array(BATCH * latent.reduce((a, b) => a * b, 1));
const vae = config.vaeDecoder ?? { scalingFactor: 1, shiftFactor: 0 };

const parts = {
  tokenize: () => {
    const ids = Array.from({ length: BATCH }, () => tokenizer.encode(prompt));
    tokenizer.toInputIds([...ids, ...ids.map(() => tokenizer.encode(''))]);
  },
  noise: () => {
    for (let i = 0; i < BATCH; i++) latentNoise([i], latent);
  },
  unscale: () => unscaleLatents(latents, vae.scalingFactor, vae.shiftFactor),
  pixels: () => {
    for (let i = 0; i < BATCH; i++) toRgb8(rgb, width, height);
  },
};
const ms: Record<string, number[]> = {};
for (let r = 0; r < 6; r++) {
  for (const [name, run] of Object.entries(parts)) {
    const t = performance.now();
    run();
    if (r > 0) (ms[name] ??= []).push(performance.now() - t);
  }
}
const rows = Object.entries(ms).map(([name, xs]) => ({ part: name, ms: round(middle(xs), 2) }));
const total = round(
  rows.reduce((s, r) => s + r.ms, 0),
  2,
);
report(
  'host-work',
  table([['part', `ms for ${BATCH} images`], ...rows.map((r) => [r.part, r.ms]), ['all', total]]),
  { machine: await machine(), model: values.model, batch: BATCH, parts: rows, totalMs: total },
);
