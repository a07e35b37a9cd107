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

  it('reports progress once per step of the whole call', async () => {
    const seen: [number, number][] = [];
    await threaded.generate(MODEL, REQUESTS, {
      onProgress: (step, total) => seen.push([step, total]),
    });
    // Two groups (two sizes) of STEPS each.
    const total = 2 * STEPS;
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => [i + 1, total]));
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

  it('runs one call at a time; a queued call that is aborted leaves the queue at once', async () => {
    const events: string[] = [];
    const abortSecond = new AbortController();
    const first = threaded
      .generate(MODEL, one(), {
        onProgress: (step) => {
          events.push(`first ${step}`);
          if (step === 1) abortSecond.abort();
        },
      })
      .then(() => events.push('first done'));
    const second = threaded
      .generate(MODEL, one(), {
        signal: abortSecond.signal,
        onProgress: () => events.push('second step'),
      })
      .catch((e: unknown) =>
        events.push(e instanceof GenerationCanceledError ? 'second canceled' : 'second ?'),
      );
    const third = threaded
      .generate(MODEL, one(), { onProgress: (step) => events.push(`third ${step}`) })
      .then(() => events.push('third done'));
    await Promise.all([first, second, third]);
    expect(events).toEqual([
      'first 1',
      'second canceled',
      ...Array.from({ length: STEPS - 1 }, (_, i) => `first ${i + 2}`),
      'first done',
      ...Array.from({ length: STEPS }, (_, i) => `third ${i + 1}`),
      'third done',
    ]);
  });

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

  it("rejects the running call with a retryable 'internal' error when the thread dies, then starts a fresh one", async () => {
    const sampler = await startExitingThreadSamplerForTests(OPTIONS, 2);
    try {
      const dying = samplerThreadForTests(sampler);
      let steps = 0;
      const running = sampler.generate(MODEL, one(12), { onProgress: () => (steps += 1) });
      const queued = sampler.generate(MODEL, one());
      const error = await rejection(running);
      expect(error).toBeInstanceOf(SamplerThreadLostError);
      expect(isDitserveError(error) && error.code).toBe('internal');
      expect((error as SamplerThreadLostError).retryable).toBe(true);
      expect((error as Error).message).toMatch(/sampler thread exited with code 70/);
      expect(steps).toBe(2);

      // The call queued behind it never reached the dead thread: it runs on a fresh one.
      const [after] = await queued;
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

  it('release() stops the running call, rejects queued ones and ends the thread', async () => {
    const sampler = await startThreadSampler(OPTIONS);
    const thread = samplerThreadForTests(sampler);
    const exited = once(thread, 'exit');
    let released: Promise<void> | undefined;
    const running = sampler.generate(MODEL, one(12), {
      onProgress: (step) => {
        if (step === 1) released = sampler.release();
      },
    });
    const queued = rejection(sampler.generate(MODEL, one()));
    expect(await rejection(running)).toBeInstanceOf(GenerationCanceledError);
    expect(await queued).toEqual(new Error('the sampler has been released'));
    await released;
    await exited;
    expect(thread.threadId).toBe(-1);
    await expect(sampler.generate(MODEL, one())).rejects.toThrow(/released/);
    await expect(sampler.release()).resolves.toBeUndefined();
  });
});
