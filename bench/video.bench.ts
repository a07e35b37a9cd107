/**
 * Video: milliseconds per call of `batch` default clips of a video model (its default frames,
 * size, steps and guidance; the CPU goal is ≤ 8 s for one 16-frame 128×128 clip on the 2-core
 * build machine), and, as the peer in the same process, `batch` default images of the shipped
 * image model, in alternating rounds (load average recorded: the machine is shared). On CUDA
 * (the GPU machine, bench/gpu/run.sh video) the PyTorch reference sampler on the same weights
 * is the peer that counts (bench/gpu/torch_peer.py --only video).
 *
 *   npx tsx bench/video.bench.ts --model <video model folder> [--image models/shapes-mmdit-s]
 *     [--device cpu|cuda] [--batch 1] [--rounds 5] [--runner auto|stock|native]
 *     [--step-graph true|false]   (false: the transformer graph each step, CFG and Euler in JS)
 *
 * Speed does not depend on the weights, so a video model that is not shipped (a training run's
 * folder) measures the architecture as well as a shipped one.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generate, loadModel, resolveRunner } from '../gpu-worker/src/sampler/index.ts';
import type { RunnerChoice } from '../gpu-worker/src/runner/runner.ts';
import { generateVideos, loadVideoModel } from '../gpu-worker/src/sampler/video/index.ts';
import { machine, median, report, round, table, timeMs } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    image: { type: 'string', default: 'models/shapes-mmdit-s' },
    rounds: { type: 'string', default: '5' },
    device: { type: 'string', default: 'cpu' },
    batch: { type: 'string', default: '1' },
    // 'auto': the native runner on CUDA (CUDA-graph steps), the stock one on the CPU.
    runner: { type: 'string', default: 'auto' },
    'step-graph': { type: 'string', default: 'true' },
  },
});
if (!values.model) throw new Error('--model <video model folder> is required');
if (values.device !== 'cpu' && values.device !== 'cuda') throw new Error('--device is cpu or cuda');
const rounds = Number(values.rounds);
const batch = Number(values.batch);
const device = values.device;

if (!['auto', 'stock', 'native'].includes(values.runner))
  throw new Error('--runner is auto, stock or native');
const runner = resolveRunner(values.runner as RunnerChoice, device);
const stepGraph = values['step-graph'] !== 'false';
const video = await loadVideoModel(values.model, { device, runner, stepGraph });
const image = await loadModel(values.image, { device, runner });
const clips = Array.from({ length: batch }, (_, i) => ({
  prompt: 'a red circle moving from left to right',
  seed: 1 + i,
}));
const pictures = Array.from({ length: batch }, (_, i) => ({
  prompt: 'a red circle on the left',
  seed: 1 + i,
}));
await generateVideos(video, clips); // warm-up: first runs allocate and tune
await generate(image, pictures);

const clipMs: number[] = [];
const imageMs: number[] = [];
const load: number[] = [];
let resolved = { frames: 0, width: 0, height: 0, steps: 0 };
for (let i = 0; i < rounds; i += 1) {
  clipMs.push(
    await timeMs(async () => {
      const [r] = await generateVideos(video, clips);
      if (!r) throw new Error('generateVideos() returned no clip');
      resolved = {
        frames: r.frames.length,
        width: r.width,
        height: r.height,
        steps: r.request.steps,
      };
    }),
  );
  imageMs.push(await timeMs(() => generate(image, pictures)));
  load.push(loadavg()[0] ?? 0);
}
const clipMedian = median(clipMs);
const imageMedian = median(imageMs);
const human = [
  `${values.model} on ${device} (${runner} runner, ${video.stepping?.engine ?? 'transformer graph'}): ${batch} clip(s) a call, ${resolved.frames} frames ${resolved.width}x${resolved.height}, ${resolved.steps} steps; median of ${rounds} rounds`,
  table([
    ['what', 'median ms', 'fastest ms'],
    [`${batch} default clip(s)`, round(clipMedian), round(Math.min(...clipMs))],
    [
      `peer: ${batch} default image(s) of ${values.image}`,
      round(imageMedian),
      round(Math.min(...imageMs)),
    ],
  ]),
  `clip / image: ${round(clipMedian / imageMedian, 2)}; per frame: ${round(clipMedian / (batch * resolved.frames))} ms; load average ${round(Math.min(...load), 2)}–${round(Math.max(...load), 2)}`,
].join('\n');
report('video', human, {
  machine: await machine(),
  model: values.model,
  device,
  runner,
  engine: video.stepping?.engine ?? 'transformer graph',
  batch,
  clip: resolved,
  clipMs,
  imageMs,
  clipSeconds: clipMedian / 1000,
  clipsPerSecond: batch / (clipMedian / 1000),
  clipOverImage: clipMedian / imageMedian,
  loadAverage: load,
});
