/**
 * A seeded open-loop workload: jobs that arrive as a Poisson process (exponential gaps), each a
 * `POST /v1/generations` body of mixed steps, guidance and image count, its prompt built from
 * the model's own vocabulary (its manifest's `ditserve.vocabulary`), so that every word is one
 * the model knows. The same seed gives the same trace, so two modes replay identical work.
 */
import { Rng } from '../../tests/reliability/rng.ts';

/** What the arrivals are drawn from. */
export interface TraceMix {
  /** Steps of a job, before `stepsScale`. */
  readonly steps: readonly number[];
  readonly guidance: readonly number[];
  readonly minImages: number;
  readonly maxImages: number;
  /** Multiplies every step count (rounded, at least 1): shorter runs on a slow machine. */
  readonly stepsScale: number;
}

export const DEFAULT_MIX: TraceMix = {
  steps: [20, 32, 48],
  guidance: [3, 4.5, 6],
  minImages: 1,
  maxImages: 4,
  stepsScale: 1,
};

export interface TraceJob {
  /** Offset of its arrival from the start of the trace. */
  readonly atMs: number;
  readonly body: {
    readonly prompt: string;
    readonly steps: number;
    readonly guidance_scale: number;
    readonly num_images: number;
    readonly seed: number;
  };
}

type Vocabulary = Readonly<Record<string, readonly (string | number)[]>>;

export const scaledSteps = (mix: TraceMix): number[] =>
  mix.steps.map((s) => Math.max(1, Math.round(s * mix.stepsScale)));

/** The mean images of a job: arrival rates in images/s become jobs/s with it. */
export const meanImages = (mix: TraceMix): number => (mix.minImages + mix.maxImages) / 2;

function words(vocabulary: Vocabulary, category: string): string[] {
  return (vocabulary[category] ?? []).map(String);
}

/** A prompt of one or two objects, with sizes, colors, a relation or a background where known. */
function prompt(rng: Rng, vocabulary: Vocabulary): string {
  const shapes = words(vocabulary, 'shapes');
  if (shapes.length === 0) throw new Error('the model vocabulary names no shapes');
  const colors = words(vocabulary, 'colors');
  const sizes = words(vocabulary, 'sizes');
  const relations = words(vocabulary, 'relations');
  const backgrounds = words(vocabulary, 'backgrounds');
  const some = (list: readonly string[]) =>
    list.length > 0 && rng.chance(0.7) ? [rng.pick(list)] : [];
  const object = () => [...some(sizes), ...some(colors), rng.pick(shapes)].join(' ');
  const first = `a ${object()}`;
  if (relations.length > 0 && rng.chance(0.4)) {
    return `${first} ${rng.pick(relations)} a ${object()}`;
  }
  if (backgrounds.length > 0 && rng.chance(0.3)) {
    return `${first} on a ${rng.pick(backgrounds)} background`;
  }
  return first;
}

/** `jobs` arrivals at `jobsPerSecond` on average. */
export function poissonTrace(options: {
  readonly seed: number;
  readonly jobs: number;
  readonly jobsPerSecond: number;
  readonly mix: TraceMix;
  readonly vocabulary: Vocabulary;
}): TraceJob[] {
  const { mix, vocabulary } = options;
  const rng = new Rng(options.seed);
  const steps = scaledSteps(mix);
  const trace: TraceJob[] = [];
  let atMs = 0;
  for (let i = 0; i < options.jobs; i++) {
    trace.push({
      atMs,
      body: {
        prompt: prompt(rng, vocabulary),
        steps: rng.pick(steps),
        guidance_scale: rng.pick(mix.guidance),
        num_images: rng.int(mix.minImages, mix.maxImages),
        seed: rng.int(0, 2 ** 31 - 1),
      },
    });
    // Exponential gap; 1 - u is in (0, 1], so the log is finite.
    atMs += (-Math.log(1 - rng.next()) / options.jobsPerSecond) * 1000;
  }
  return trace;
}

/** Every job at once (a closed burst): what saturates a worker, to measure its capacity. */
export function burst(trace: readonly TraceJob[]): TraceJob[] {
  return trace.map((job) => ({ ...job, atMs: 0 }));
}
