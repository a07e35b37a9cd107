/**
 * Does a video model move an object the way its caption says? A quick check on the CPU, for a
 * training run's folder (gpu-worker/training/VIDEO_EXPERIMENTS.md reports its output):
 *
 *   npx tsx scripts/video-direction-probe.ts --model <video model folder> [--seeds 1,2,3,7]
 *
 * 1. "a red circle moving left|right|up|down" and "a red circle in the center", one clip per
 *    seed at the model's defaults: the red pixels' centroid in every third frame, and the net
 *    displacement over the clip (x right, y down, in pixels).
 * 2. The text encoder's pooled outputs of those captions and of "a red circle on the left|right"
 *    (words the image model knows as places): their lengths and the L2 distances between them
 *    (direction words the encoder tells apart lie far apart); and its output at the direction
 *    word itself, the same distances between the four "moving …" captions at that token.
 * 3. How much the transformer reads a word: pairs of captions that differ in it, each as the
 *    clip one Euler step makes from pure noise at guidance 4.5 (the clip the model expects for
 *    that caption and seed); the mean absolute difference between the two clips' pixels (0–255).
 */
import { parseArgs } from 'node:util';
import { encodeText } from '../gpu-worker/src/sampler/components.ts';
import { generateVideos, loadVideoModel } from '../gpu-worker/src/sampler/video/index.ts';
import { redCentroid } from './red-centroid.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seeds: { type: 'string', default: '1,2,3,7' },
  },
});
if (!values.model) throw new Error('--model <video model folder> is required');
const seeds = values.seeds.split(',').map(Number);
const captions = ['left', 'right', 'up', 'down']
  .map((d) => `a red circle moving ${d}`)
  .concat('a red circle in the center');

const model = await loadVideoModel(values.model, { device: 'cpu' });
console.log(`${values.model}: red centroid (x,y) every third frame; net (dx,dy)`);
for (const seed of seeds) {
  const clips = await generateVideos(
    model,
    captions.map((prompt) => ({ prompt, seed })),
  );
  clips.forEach((clip, i) => {
    const path = clip.frames.map((f) => redCentroid(f, clip.width));
    const shown = path
      .filter((_, j) => j % 3 === 0)
      .map((c) => (c ? `${c[0].toFixed(0)},${c[1].toFixed(0)}` : '-'))
      .join(' ');
    const first = path.find((c) => c !== null);
    const last = path.findLast((c) => c !== null);
    const net =
      first && last
        ? `(${(last[0] - first[0]).toFixed(0)},${(last[1] - first[1]).toFixed(0)})`
        : '-';
    console.log(`seed ${seed}  ${(captions[i] ?? '').padEnd(28)} ${shown}  net ${net}`);
  });
}

const { tokenizer } = model;
const texts = captions.concat('a red circle on the left', 'a red circle on the right');
const text = await encodeText(
  model.textEncoder,
  tokenizer.toInputIds(texts.map((c) => tokenizer.encode(c))),
  texts.length,
  tokenizer.maxLength,
);
const width = text.pooled.length / texts.length;
const pooled = texts.map((_, i) => text.pooled.subarray(i * width, (i + 1) * width));
const norm = (a: Float32Array) => Math.hypot(...a);
const distance = (a: Float32Array, b: Float32Array) =>
  Math.hypot(...a.map((x, k) => x - (b[k] ?? 0)));
console.log('\npooled text outputs: length, then L2 distance to each caption in order');
pooled.forEach((p, i) => {
  const row = pooled.map((q) => distance(p, q).toFixed(2)).join(' ');
  console.log(`${(texts[i] ?? '').padEnd(28)} ${norm(p).toFixed(1).padStart(5)}  ${row}`);
});

// The four "moving …" captions differ in one token, the direction word (the same position in each).
const ids = texts.map((c) => tokenizer.encode(c).ids);
const at = ids[0]?.findIndex((id, k) => id !== ids[1]?.[k]) ?? -1;
const hiddenWidth = text.hidden.length / texts.length / tokenizer.maxLength;
const wordState = (i: number) => {
  const start = (i * tokenizer.maxLength + at) * hiddenWidth;
  return text.hidden.subarray(start, start + hiddenWidth);
};
console.log(
  `\nthe text encoder's output at the direction word (token ${String(at)}): length, then L2 distances`,
);
for (let i = 0; i < 4; i++) {
  const row = [0, 1, 2, 3].map((j) => distance(wordState(i), wordState(j)).toFixed(2)).join(' ');
  console.log(
    `${(texts[i] ?? '').padEnd(28)} ${norm(wordState(i)).toFixed(1).padStart(5)}  ${row}`,
  );
}

const pairs = [
  ['a red circle moving up', 'a red circle moving down'],
  ['a red circle moving left', 'a red circle moving right'],
  ['a red circle traveling from top to bottom', 'a red circle traveling from bottom to top'],
  ['a red circle moving up', 'a blue circle moving up'],
  ['a red circle moving up', 'a red square moving up'],
  ['a red circle on the left', 'a red circle on the right'],
  ['a red circle moving up', 'a red circle standing still'],
] as const;
console.log('\none-step clips from pure noise: mean |pixel difference| of each pair, per seed');
for (const [a, b] of pairs) {
  const row: string[] = [];
  for (const seed of seeds) {
    const [x, y] = await generateVideos(
      model,
      [a, b].map((prompt) => ({ prompt, seed, steps: 1, guidanceScale: 4.5 })),
    );
    let sum = 0;
    let n = 0;
    x?.frames.forEach((frame, i) => {
      const other = y?.frames[i];
      frame.forEach((v, k) => {
        sum += Math.abs(v - (other?.[k] ?? 0));
        n += 1;
      });
    });
    row.push((sum / n).toFixed(2));
  }
  console.log(`${`${a} | ${b}`.padEnd(84)} ${row.join(' ')}`);
}
