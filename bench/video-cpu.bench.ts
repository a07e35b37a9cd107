/**
 * Video on the CPU: seconds per default clip of a video model (its default frames, size, steps
 * and guidance; issue goal ≤ 8 s for 16 frames at 128×128 on the 2-core build machine), and, as
 * the peer in the same process, the shipped image model's default image, in alternating rounds
 * (load average recorded: the machine is shared).
 *
 *   npx tsx bench/video-cpu.bench.ts --model <video model folder> [--image models/shapes-mmdit-s] [--rounds 5]
 *
 * Speed does not depend on the weights, so a video model that is not shipped (a training run's
 * folder) measures the architecture as well as a shipped one.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generate, loadModel } from '../gpu-worker/src/sampler/index.ts';
import { generateVideo, loadVideoModel } from '../gpu-worker/src/sampler/video/index.ts';
import { machine, median, report, round, table, timeMs } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    image: { type: 'string', default: 'models/shapes-mmdit-s' },
    rounds: { type: 'string', default: '5' },
  },
});
if (!values.model) throw new Error('--model <video model folder> is required');
const rounds = Number(values.rounds);

const video = await loadVideoModel(values.model, { device: 'cpu' });
const image = await loadModel(values.image, { device: 'cpu' });
const clip = { prompt: 'a red circle moving from left to right', seed: 1 };
const picture = { prompt: 'a red circle on the left', seed: 1 };
await generateVideo(video, clip); // warm-up: first runs allocate and tune
await generate(image, [picture]);

const clipMs: number[] = [];
const imageMs: number[] = [];
const load: number[] = [];
let resolved = { frames: 0, width: 0, height: 0, steps: 0 };
for (let i = 0; i < rounds; i += 1) {
  clipMs.push(
    await timeMs(async () => {
      const r = await generateVideo(video, clip);
      resolved = {
        frames: r.frames.length,
        width: r.width,
        height: r.height,
        steps: r.request.steps,
      };
    }),
  );
  imageMs.push(await timeMs(() => generate(image, [picture])));
  load.push(loadavg()[0] ?? 0);
}
const clipMedian = median(clipMs);
const imageMedian = median(imageMs);
const human = [
  `${values.model}: ${resolved.frames} frames ${resolved.width}x${resolved.height}, ${resolved.steps} steps; median of ${rounds} rounds`,
  table([
    ['what', 'median ms', 'fastest ms'],
    ['default clip', round(clipMedian), round(Math.min(...clipMs))],
    ['peer: default image of ' + values.image, round(imageMedian), round(Math.min(...imageMs))],
  ]),
  `clip / image: ${round(clipMedian / imageMedian, 2)}; per frame: ${round(clipMedian / resolved.frames)} ms; load average ${round(Math.min(...load), 2)}–${round(Math.max(...load), 2)}`,
].join('\n');
report('video-cpu', human, {
  machine: await machine(),
  model: values.model,
  clip: resolved,
  clipMs,
  imageMs,
  clipSeconds: clipMedian / 1000,
  clipOverImage: clipMedian / imageMedian,
  loadAverage: load,
});
