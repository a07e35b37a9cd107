import { describe, expect, it } from 'vitest';
import { GenerationCanceledError } from '../../gpu-worker/src/sampler/errors.ts';
import type {
  SampleExtras,
  SampleText,
  StepEngine,
  StepParams,
  StepShape,
} from '../../gpu-worker/src/sampler/stepping/step-engine.ts';
import { StepLoop, type LoopSample } from '../../gpu-worker/src/sampler/stepping/step-loop.ts';
import { HostStepEngine } from '../../gpu-worker/src/sampler/stepping/host-step-engine.ts';
import type { Runner, TensorMap } from '../../gpu-worker/src/runner/runner.ts';
import { CUDA_BUCKETS, paddedBatch } from '../../gpu-worker/src/sampler/stepping/stepping.ts';

/**
 * The step loop over a fake engine whose step is x ← x + (σ' − σ)·g·(1 + text), so a sample's
 * result is known in closed form and shows whether its own σ, g and text were used.
 */
const SHAPE: StepShape = { latent: [1, 1, 2], textLength: 1, textWidth: 1 };
const PER = 2;

class FakeEngine implements StepEngine {
  readonly shape = SHAPE;
  readonly x: Float32Array;
  readonly text: Float32Array;
  failNext = false;
  constructor(
    readonly capacity: number,
    private readonly log: { steps: number[]; opened: number[] },
  ) {
    this.x = new Float32Array(capacity * PER);
    this.text = new Float32Array(capacity);
    log.opened.push(capacity);
  }
  /** What each load brought as its further inputs (the first value of `cond`), by slot. */
  readonly extras: (number | undefined)[] = [];
  load(
    slot: number,
    latents: Float32Array,
    text: SampleText,
    extras?: SampleExtras,
  ): Promise<void> {
    this.x.set(latents, slot * PER);
    this.text[slot] = text.condPooled[0] ?? 0;
    this.extras[slot] = extras?.cond?.[0];
    return Promise.resolve();
  }
  step(p: StepParams): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('device lost'));
    }
    this.log.steps.push(this.capacity);
    for (let s = 0; s < this.capacity; s++) {
      const dx =
        ((p.sigmaNext[s] ?? 0) - (p.sigma[s] ?? 0)) *
        (p.guidance[s] ?? 0) *
        (1 + (this.text[s] ?? 0));
      for (let k = 0; k < PER; k++) this.x[s * PER + k] = (this.x[s * PER + k] ?? 0) + dx;
    }
    return Promise.resolve();
  }
  read(slot: number): Promise<Float32Array> {
    return Promise.resolve(this.x.slice(slot * PER, (slot + 1) * PER));
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}

function loop(buckets: number[]) {
  const log = { steps: [] as number[], opened: [] as number[] };
  const engines: FakeEngine[] = [];
  const l = new StepLoop({
    buckets,
    openEngine: (capacity) => {
      const e = new FakeEngine(capacity, log);
      engines.push(e);
      return Promise.resolve(e);
    },
  });
  return { l, log, engines };
}

const text = (t: number): SampleText => {
  const v = new Float32Array([t]);
  return { condHidden: v, uncondHidden: v, condPooled: v, uncondPooled: v };
};
const sigmas = (n: number) => Float64Array.from({ length: n + 1 }, (_, i) => 1 - i / n);

function sample(
  steps: number,
  guidance: number,
  t = 0,
  extra: Partial<LoopSample> = {},
): LoopSample {
  return {
    latents: new Float32Array([1, 2]),
    text: text(t),
    sigmas: sigmas(steps),
    guidance,
    ...extra,
  };
}

/** The same arithmetic alone, in float32. */
function expected(steps: number, guidance: number, t = 0): number[] {
  const x = new Float32Array([1, 2]);
  const s = sigmas(steps);
  for (let i = 0; i < steps; i++) {
    const dx = (Math.fround(s[i + 1] ?? 0) - Math.fround(s[i] ?? 0)) * guidance * (1 + t);
    for (let k = 0; k < PER; k++) x[k] = (x[k] ?? 0) + dx;
  }
  return [...x];
}

describe('StepLoop (continuous batching at step boundaries)', () => {
  it('moves a sample through its own schedule', async () => {
    const { l, log } = loop([1, 2, 4]);
    expect([...(await l.submit(sample(5, 3)))]).toEqual(expected(5, 3));
    expect(log.steps).toHaveLength(5);
  });

  it('runs samples with different steps, guidance and text in the same steps', async () => {
    const { l, log } = loop([1, 2, 4]);
    const results = await Promise.all([
      l.submit(sample(3, 1.5, 0.5)),
      l.submit(sample(5, 4.5, 0)),
      l.submit(sample(8, 7, 2)),
    ]);
    expect(results.map((r) => [...r])).toEqual([
      expected(3, 1.5, 0.5),
      expected(5, 4.5),
      expected(8, 7, 2),
    ]);
    // Shared steps: as many runs as the longest schedule, not the sum of all three.
    expect(log.steps).toHaveLength(8);
    expect(l.stats).toMatchObject({ runs: 8, sampleSteps: 16 });
  });

  it('loads each sample’s further inputs, also again when the bucket grows', async () => {
    const { l, engines } = loop([1, 2]);
    let late: Promise<Float32Array> | undefined;
    const first = l.submit(
      sample(6, 2, 0, {
        extras: { cond: new Float32Array([5]) },
        onStep: (done) => {
          if (done === 2)
            late = l.submit(sample(3, 1, 0, { extras: { cond: new Float32Array([7]) } }));
        },
      }),
    );
    await first;
    await late;
    expect(engines.map((e) => e.capacity)).toEqual([1, 2]);
    expect(engines[0]?.extras).toEqual([5]);
    // The running sample moved into bucket 2 with its own inputs; the new one took the next slot.
    expect(engines[1]?.extras).toEqual([5, 7]);
  });

  it('admits a sample that arrives mid-run at the next step boundary', async () => {
    const { l, log } = loop([1, 2, 4]);
    let late: Promise<Float32Array> | undefined;
    const first = l.submit(
      sample(10, 2, 0, {
        onStep: (done) => {
          if (done === 4) late = l.submit(sample(3, 5));
        },
      }),
    );
    const [a] = await Promise.all([first]);
    expect([...a]).toEqual(expected(10, 2));
    expect([...(await (late ?? Promise.reject(new Error('never submitted'))))]).toEqual(
      expected(3, 5),
    );
    expect(log.steps).toHaveLength(10);
    // The batch grew to 2 for the joiner and back for the rest only when room was to spare.
    expect(log.opened).toEqual([1, 2]);
  });

  it('frees a canceled sample at the next boundary; the others go on', async () => {
    const { l } = loop([1, 2, 4]);
    const abort = new AbortController();
    const canceled = l.submit(
      sample(10, 2, 0, {
        signal: abort.signal,
        onStep: (done) => {
          if (done === 2) abort.abort(new Error('user'));
        },
      }),
    );
    const other = l.submit(sample(6, 3));
    await expect(canceled).rejects.toBeInstanceOf(GenerationCanceledError);
    await expect(canceled).rejects.toThrow('after 2 of 10 steps');
    expect([...(await other)]).toEqual(expected(6, 3));
    expect(l.stats.sampleSteps).toBe(2 + 6);
  });

  it('moves running samples into a bigger bucket intact when more arrive', async () => {
    const { l, log } = loop([1, 2, 4]);
    const joiners: Promise<Float32Array>[] = [];
    const first = l.submit(
      sample(6, 1, 0, {
        onStep: (done) => {
          if (done === 1) for (let g = 2; g <= 4; g++) joiners.push(l.submit(sample(4, g, g)));
        },
      }),
    );
    expect([...(await first)]).toEqual(expected(6, 1));
    const rest = await Promise.all(joiners);
    expect(rest.map((r) => [...r])).toEqual([2, 3, 4].map((g) => expected(4, g, g)));
    // Up to 4 at once, then down to 2 (not 1) for the last one: shrinking leaves room.
    expect(log.opened).toEqual([1, 4, 2]);
  });

  it('makes samples beyond the largest bucket wait for a free slot', async () => {
    const { l, log } = loop([1, 2]);
    const results = await Promise.all([1, 2, 3, 4, 5].map((g) => l.submit(sample(3, g))));
    expect(results.map((r) => [...r])).toEqual([1, 2, 3, 4, 5].map((g) => expected(3, g)));
    expect(Math.max(...log.steps)).toBe(2);
    expect(log.steps).toHaveLength(9);
  });

  it('fails the samples in a failing step and keeps serving later ones', async () => {
    const { l, engines } = loop([1, 2]);
    const a = l.submit(
      sample(4, 1, 0, {
        onStep: (done) => {
          if (done === 1 && engines[0]) engines[0].failNext = true;
        },
      }),
    );
    await expect(a).rejects.toThrow('device lost');
    expect([...(await l.submit(sample(2, 2)))]).toEqual(expected(2, 2));
  });

  it('refuses bad schedules and submits after close', async () => {
    const { l } = loop([1]);
    await expect(l.submit({ ...sample(1, 1), sigmas: [1] })).rejects.toThrow('at least two sigmas');
    await l.close();
    await expect(l.submit(sample(1, 1))).rejects.toThrow('closed');
    expect(
      () => new StepLoop({ buckets: [], openEngine: () => Promise.reject(new Error('x')) }),
    ).toThrow(RangeError);
  });
});

describe('paddedBatch (decode buckets)', () => {
  it('pads up to a bucket, past the largest to a multiple of it, and not at all without buckets', () => {
    expect([1, 2, 3, 5, 9, 17, 32].map((n) => paddedBatch(n, CUDA_BUCKETS))).toEqual([
      1, 2, 4, 8, 16, 32, 32,
    ]);
    expect(paddedBatch(33, CUDA_BUCKETS)).toBe(64);
    expect(paddedBatch(7, null)).toBe(7);
  });
});

describe('HostStepEngine with further inputs (a video model’s given frames)', () => {
  const shape: StepShape = { ...SHAPE, extras: { cond: [3] } };
  const fed: TensorMap[] = [];
  const runner: Runner = {
    kind: 'stock',
    inputNames: [],
    outputNames: ['latents_next'],
    run: (feeds) => {
      fed.push(feeds);
      const x = feeds.latents;
      return Promise.resolve(x ? { latents_next: x } : {});
    },
    endProfiling: () => Promise.resolve(null),
    release: () => Promise.resolve(),
  };

  it('feeds them per slot, [capacity, …dims], and refuses a sample without them', async () => {
    const engine = new HostStepEngine(2, shape, runner);
    // Refused before anything is copied, as a bad slot is (the loop rejects that sample).
    expect(() => engine.load(0, new Float32Array(PER), text(0))).toThrow(/cond: expected 3 values/);
    await engine.load(1, new Float32Array(PER), text(0), { cond: new Float32Array([1, 2, 3]) });
    const zeros = new Float32Array(2);
    await engine.step({ sigma: zeros, sigmaNext: zeros, guidance: zeros });
    expect(fed.at(-1)?.cond).toEqual({
      type: 'float32',
      data: new Float32Array([0, 0, 0, 1, 2, 3]),
      dims: [2, 3],
    });
  });
});
