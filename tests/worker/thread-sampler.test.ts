import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDitserveError } from '../../core/errors.ts';
import {
  GenerationCanceledError,
  InvalidRequestError,
  ModelNotFoundError,
  type GenerationRequest,
  type GenerationResult,
} from '../../gpu-worker/src/sampler/index.ts';
import { loadModels } from '../../gpu-worker/src/worker/load-models.ts';
import { inProcessSampler, type Sampler } from '../../gpu-worker/src/worker/sampler-port.ts';
import {
  SamplerThreadLostError,
  samplerThreadForTests,
  startExitingThreadSamplerForTests,
  startThreadSampler,
} from '../../gpu-worker/src/worker/thread-sampler.ts';

const MODEL_DIR = 'models/shapes-mmdit-s';
const MODEL = 'shapes-mmdit-s';
// One intra-op thread on each side: the same numerics, and a core left for this test's thread.
const OPTIONS = { modelDirs: [MODEL_DIR], device: 'cpu', threads: 1 } as const;
const STEPS = 4;

const REQUESTS: GenerationRequest[] = [
  { prompt: 'a red circle left of a blue square', seed: 7, steps: STEPS },
  { prompt: 'a green triangle', seed: 8, steps: STEPS },
  // Another size, so another batch: one call, two groups. No guidance: the other graph path.
  { prompt: 'a large yellow star', seed: 9, steps: STEPS, guidanceScale: 1, width: 192 },
];

let threaded: Sampler;
let local: Sampler;

beforeAll(async () => {
  threaded = await startThreadSampler(OPTIONS);
  local = inProcessSampler(await loadModels(OPTIONS.modelDirs, OPTIONS));
});

afterAll(async () => {
  await threaded.release();
  await local.release();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const one = (steps = STEPS): GenerationRequest[] => [{ prompt: 'a blue square', seed: 3, steps }];

/**
 * Three calls at once: a and b run to the end, c is canceled at its second step. Checks that
 * they overlapped, that each saw only its own progress and got the image it makes alone, and
 * that c's cancel stopped c only.
 */
async function concurrentCalls(sampler: Sampler): Promise<void> {
  const events: string[] = [];
  const progress = new Map<string, [number, number][]>();
  const abortC = new AbortController();
  const call = (name: string, request: GenerationRequest, signal?: AbortSignal) => {
    const seen: [number, number][] = [];
    progress.set(name, seen);
    return sampler
      .generate(MODEL, [request], {
        signal,
        onProgress: (step, total) => {
          events.push(`${name} ${step}`);
          seen.push([step, total]);
          if (name === 'c' && step === 2) abortC.abort(new Error('canceled c'));
        },
      })
      .then(
        (results) => {
          events.push(`${name} done`);
          return results;
        },
        (error: unknown) => {
          events.push(`${name} failed`);
          throw error;
        },
      );
  };
  const requestA = { prompt: 'a red circle', seed: 11, steps: 6 };
  const requestB = { prompt: 'two yellow stars', seed: 12, steps: 9, guidanceScale: 6 };
  const requestC = { prompt: 'a green triangle', seed: 13, steps: 12 };
  const [[mineA], [mineB], errorC] = await Promise.all([
    call('a', requestA),
    call('b', requestB),
    rejection(call('c', requestC, abortC.signal)),
  ]);

  // They overlapped: each stepped before the others finished.
  const at = (e: string) => events.indexOf(e);
  expect(at('b 1')).toBeLessThan(at('a done'));
  expect(at('c 1')).toBeLessThan(at('a done'));
  expect(at('a 1')).toBeLessThan(at('b done'));
  // Each call saw its own steps only, and got its own image: the one it makes alone.
  expect(progress.get('a')).toEqual(Array.from({ length: 6 }, (_, i) => [i + 1, 6]));
  expect(progress.get('b')).toEqual(Array.from({ length: 9 }, (_, i) => [i + 1, 9]));
  const [aloneA] = await sampler.generate(MODEL, [requestA]);
  const [aloneB] = await sampler.generate(MODEL, [requestB]);
  expect(Buffer.from(mineA?.pixels ?? []).equals(Buffer.from(aloneA?.pixels ?? []))).toBe(true);
  expect(Buffer.from(mineB?.pixels ?? []).equals(Buffer.from(aloneB?.pixels ?? []))).toBe(true);
  // The canceled one stopped within a step of its cancel; the others ran to the end.
  expect(errorC).toBeInstanceOf(GenerationCanceledError);
  expect(progress.get('c')?.length).toBeLessThanOrEqual(3);
  expect(events).not.toContain('a failed');
  expect(events).not.toContain('b failed');
}

describe('startThreadSampler', () => {
  it('runs the native runner when asked (same pixels as the stock binding) and says which it uses', async () => {
    const native = await startThreadSampler({ ...OPTIONS, runner: 'native' });
    try {
      expect(native.models.get(MODEL)).toMatchObject({ runner: 'native', runnerFallback: null });
      expect(threaded.models.get(MODEL)).toMatchObject({ runner: 'stock', runnerFallback: null });
      const [a, b] = await Promise.all([
        native.generate(MODEL, REQUESTS.slice(0, 1)),
        threaded.generate(MODEL, REQUESTS.slice(0, 1)),
      ]);
      expect(a[0]?.pixels).toEqual(b[0]?.pixels);
    } finally {
      await native.release();
    }
  });

  it('serves the models the thread loaded, by manifest name, with their versions', () => {
    expect([...threaded.models]).toEqual([...local.models]);
    expect(threaded.models.get(MODEL)?.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('makes the same pixel bytes as the in-process sampler, in request order', async () => {
    const [mine, theirs] = await Promise.all([
      threaded.generate(MODEL, REQUESTS),
      local.generate(MODEL, REQUESTS),
    ]);
    expect(mine).toHaveLength(REQUESTS.length);
    const withoutPixels = (r: GenerationResult) => ({ ...r, pixels: null });
    expect(mine.map(withoutPixels)).toEqual(theirs.map(withoutPixels));
    mine.forEach((r, i) => {
      expect(Buffer.from(r.pixels).equals(Buffer.from(theirs[i]?.pixels ?? []))).toBe(true);
    });
  });

  it('reports progress once per step of the whole call, as the in-process sampler does', async () => {
    const mine: [number, number][] = [];
    const theirs: [number, number][] = [];
    await threaded.generate(MODEL, REQUESTS, {
      onProgress: (step, total) => mine.push([step, total]),
    });
    await local.generate(MODEL, REQUESTS, {
      onProgress: (step, total) => theirs.push([step, total]),
    });
    // How many steps a call of two sizes counts is the sampler's business (two batches one after
    // the other, or two step loops at once); the thread passes on each of them.
    expect(mine).toEqual(theirs);
    const total = mine[0]?.[1] ?? 0;
    expect(total).toBeGreaterThanOrEqual(STEPS);
    expect(mine).toEqual(Array.from({ length: total }, (_, i) => [i + 1, total]));
  });

  it("keeps the main thread's event loop running between steps", async () => {
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns += 1;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const atStep: number[] = [];
    await threaded.generate(MODEL, one(), { onProgress: () => atStep.push(turns) });
    spinning = false;
    expect(atStep).toHaveLength(STEPS);
    expect(atStep.at(-1)).toBeGreaterThan(atStep[0] ?? Infinity);
  });

  it('stops at the next step once the signal fires, with GenerationCanceledError', async () => {
    const abort = new AbortController();
    const reason = new Error('user canceled');
    let afterAbort = 0;
    const canceled = threaded.generate(MODEL, one(12), {
      signal: abort.signal,
      onProgress: (step) => {
        if (abort.signal.aborted) afterAbort += 1;
        else if (step === 2) abort.abort(reason);
      },
    });
    const error = await rejection(canceled);
    expect(error).toBeInstanceOf(GenerationCanceledError);
    expect(isDitserveError(error) && error.code).toBe('generation_canceled');
    expect((error as Error).cause).toBe(reason);
    // The step running when the flag was set may finish; no step starts after it.
    expect(afterAbort).toBeLessThanOrEqual(1);
    // The thread is free again.
    await expect(threaded.generate(MODEL, one())).resolves.toHaveLength(1);
  });

  it('rejects at once, without running, when the signal has already fired', async () => {
    let steps = 0;
    const error = await rejection(
      threaded.generate(MODEL, one(), { signal: AbortSignal.abort(), onProgress: () => steps++ }),
    );
    expect(error).toBeInstanceOf(GenerationCanceledError);
    expect(steps).toBe(0);
  });

  it.each([
    ['sharing steps (a step graph)', true],
    ['interleaving their own batches (stepGraph false)', false],
  ])(
    'runs calls at once, %s: each with its own progress and result; canceling one leaves the others running',
    async (_, stepGraph) => {
      const sampler = stepGraph ? threaded : await startThreadSampler({ ...OPTIONS, stepGraph });
      try {
        await concurrentCalls(sampler);
      } finally {
        if (sampler !== threaded) await sampler.release();
      }
    },
  );

  it("rebuilds the thread's errors with their class, code and message", async () => {
    const bad: GenerationRequest[] = [{ prompt: 'a red circle', steps: 0 }];
    const mine = await rejection(threaded.generate(MODEL, bad));
    const theirs = await rejection(local.generate(MODEL, bad));
    expect(mine).toBeInstanceOf(InvalidRequestError);
    expect(isDitserveError(mine) && mine.code).toBe('invalid_request');
    expect((mine as Error).message).toBe((theirs as Error).message);
    expect((mine as Error).name).toBe('InvalidRequestError');
  });

  it('rejects a model it does not serve as the in-process sampler does', async () => {
    const mine = await rejection(threaded.generate('no-such-model', one()));
    const theirs = await rejection(local.generate('no-such-model', one()));
    expect(isDitserveError(mine)).toBe(false);
    expect((mine as Error).message).toBe((theirs as Error).message);
  });

  it('fails the call with the error of an onProgress that throws', async () => {
    const thrown = new Error('progress sink broke');
    const error = await rejection(
      threaded.generate(MODEL, one(), {
        onProgress: () => {
          throw thrown;
        },
      }),
    );
    expect(error).toBe(thrown);
    await expect(threaded.generate(MODEL, one())).resolves.toHaveLength(1);
  });

  it("rejects every running call with a retryable 'internal' error when the thread dies, then starts a fresh one", async () => {
    const sampler = await startExitingThreadSamplerForTests(OPTIONS, 2);
    try {
      const dying = samplerThreadForTests(sampler);
      let steps = 0;
      const running = [
        sampler.generate(MODEL, one(12), { onProgress: () => (steps += 1) }),
        sampler.generate(MODEL, one(12)),
      ];
      const errors = await Promise.all(running.map(rejection));
      for (const error of errors) {
        expect(error).toBeInstanceOf(SamplerThreadLostError);
        expect(isDitserveError(error) && error.code).toBe('internal');
        expect((error as SamplerThreadLostError).retryable).toBe(true);
        expect((error as Error).message).toMatch(/sampler thread exited with code 70/);
      }
      // The thread ended after the second step of one of them.
      expect(steps).toBeLessThanOrEqual(2);

      // A call waiting for the fresh thread that is aborted leaves at once, without running.
      const abort = new AbortController();
      const waiting = rejection(sampler.generate(MODEL, one(), { signal: abort.signal }));
      abort.abort();
      const canceled = await waiting;
      expect(canceled).toBeInstanceOf(GenerationCanceledError);
      expect((canceled as Error).message).toMatch(/before it started/);

      // The next call runs on a fresh thread.
      const [after] = await sampler.generate(MODEL, one());
      expect(samplerThreadForTests(sampler)).not.toBe(dying);
      const [expected] = await local.generate(MODEL, one());
      expect(Buffer.from(after?.pixels ?? []).equals(Buffer.from(expected?.pixels ?? []))).toBe(
        true,
      );
    } finally {
      await sampler.release();
    }
  });
});

describe('loading and release', () => {
  it("rejects with the loader's error when a model folder does not exist", async () => {
    const error = await rejection(
      startThreadSampler({ ...OPTIONS, modelDirs: ['models/does-not-exist'] }),
    );
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(isDitserveError(error) && error.code).toBe('model_not_found');
  });

  it('release() stops every running call, waits for them and ends the thread', async () => {
    const sampler = await startThreadSampler(OPTIONS);
    const thread = samplerThreadForTests(sampler);
    const exited = once(thread, 'exit');
    await releaseMidRun(sampler);
    await exited;
    expect(thread.threadId).toBe(-1);
    await expect(sampler.generate(MODEL, one())).rejects.toThrow(/released/);
    await expect(sampler.release()).resolves.toBeUndefined();
  });

  it('the in-process sampler runs calls at once too, and its release() stops them first', async () => {
    const sampler = inProcessSampler(await loadModels(OPTIONS.modelDirs, OPTIONS));
    await releaseMidRun(sampler);
    await expect(sampler.generate(MODEL, one())).rejects.toThrow(/released/);
  });
});

/**
 * Two 12-step calls, and release() once both have stepped (so both are mid-run): each must
 * reject as canceled, and the release must then settle.
 */
async function releaseMidRun(sampler: Sampler): Promise<void> {
  let released: Promise<void> | undefined;
  const stepped = new Set<string>();
  const onProgress = (name: string) => () => {
    stepped.add(name);
    if (stepped.size === 2) released ??= sampler.release();
  };
  const running = [
    rejection(sampler.generate(MODEL, one(12), { onProgress: onProgress('a') })),
    rejection(sampler.generate(MODEL, one(12), { onProgress: onProgress('b') })),
  ];
  for (const error of await Promise.all(running)) {
    expect(error).toBeInstanceOf(GenerationCanceledError);
  }
  await released;
}
