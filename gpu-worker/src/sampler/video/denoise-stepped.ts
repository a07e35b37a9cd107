import type { TextEmbeddings } from '../components.ts';
import { shiftedSigmas } from '../schedulers/flow-match.ts';
import { sampleTextOf } from '../stepping/step-engine.ts';
import type { Stepping } from '../stepping/stepping.ts';
import { clipSize, type ClipShape } from './clip-layout.ts';
import { clipStepValues } from './components.ts';
import type { Conditioning } from './conditioning.ts';
import type { StepProgress } from './progress.ts';

/**
 * Step (5) of a batch of Euler clips through the model's step loop of their size: every clip is
 * a sample with its own guidance and given frames, so clips of concurrent calls share each run
 * of the step graph (and on CUDA through the native runner, each step is one CUDA-graph replay).
 * `x` holds the clips' noise and receives their denoised latents; `text` is [cond…, uncond…].
 * Progress counts a step once every clip of the batch has made it.
 */
export async function denoiseStepped(
  stepping: Stepping,
  x: Float32Array,
  given: Conditioning,
  text: TextEmbeddings,
  o: {
    readonly shape: ClipShape;
    readonly guidance: readonly number[];
    readonly steps: number;
    readonly shift: number;
    readonly textLength: number;
    readonly textWidth: number;
    readonly progress: StepProgress;
  },
): Promise<void> {
  const { shape } = o;
  const b = o.guidance.length;
  const per = clipSize(shape);
  const frames = shape.frames;
  const loop = stepping.loop([shape.channels, shape.frames, shape.height, shape.width]);
  const sigmas = shiftedSigmas(o.steps, o.shift);
  const made = new Array<number>(b).fill(0);
  let reported = 0;
  const latents = await Promise.all(
    o.guidance.map((guidance, s) =>
      loop.submit({
        latents: x.subarray(s * per, (s + 1) * per),
        text: sampleTextOf(text, s, b, o.textLength, o.textWidth),
        extras: clipStepValues(
          given.latents.subarray(s * per, (s + 1) * per),
          given.mask.subarray(s * frames, (s + 1) * frames),
        ),
        sigmas,
        guidance,
        signal: o.progress.signal,
        onStep: (done) => {
          made[s] = done;
          while (reported < Math.min(...made)) {
            reported += 1;
            o.progress.stepDone();
          }
        },
      }),
    ),
  );
  latents.forEach((clip, s) => {
    x.set(clip, s * per);
  });
}
