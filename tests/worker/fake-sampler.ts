import { setImmediate as tick } from 'node:timers/promises';
import type {
  GenerateOptions,
  GenerationRequest,
  GenerationResult,
} from '../../gpu-worker/src/sampler/index.ts';
import { GenerationCanceledError } from '../../gpu-worker/src/sampler/index.ts';
import type { VideoClipRequest, VideoResult } from '../../gpu-worker/src/sampler/video/index.ts';
import type { Sampler } from '../../gpu-worker/src/worker/sampler-port.ts';

export interface FakeSamplerOptions {
  /** Models it serves. @default ['shapes-mmdit-s'] */
  readonly models?: readonly string[];
  /** Video models it serves (generateVideos). @default [] */
  readonly videoModels?: readonly string[];
  /** Frames an extension is given and drops from its result. @default 2 */
  readonly extendContextFrames?: number;
  /** Awaited before each step of every call: a test holds or paces the batch with it. */
  readonly beforeStep?: ((step: number, total: number) => Promise<void>) | undefined;
  /** What call `n` (0-based) throws instead of generating; undefined generates. */
  readonly failCall?: ((n: number) => Error | undefined) | undefined;
}

export interface FakeSampler extends Sampler {
  /** Every call's model and requests, in order. */
  readonly calls: { readonly model: string; readonly requests: readonly GenerationRequest[] }[];
  /** Every generateVideos() call's model and clips, in order (they count in failCall's n too). */
  readonly videoCalls: { readonly model: string; readonly clips: readonly VideoClipRequest[] }[];
  /** Steps run, across calls. */
  stepsRun: number;
}

/**
 * A Sampler without ONNX for worker tests: steps on the event loop (one tick each, or whatever
 * `beforeStep` awaits), honours the AbortSignal between steps as the real one does, and returns
 * a solid image (or clip of solid frames) whose first byte is the seed mod 256, so tests can
 * tell them apart.
 */
export function fakeSampler(options: FakeSamplerOptions = {}): FakeSampler {
  const names = options.models ?? ['shapes-mmdit-s'];
  const videoNames = options.videoModels ?? [];
  const model = (name: string, modality: 'image' | 'video') =>
    [
      name,
      { name, version: 'test', modality, runner: 'stock' as const, runnerFallback: null },
    ] as const;
  /** The steps of call `n`, or its scripted failure. */
  const steps = async (n: number, total: number, o: GenerateOptions) => {
    const failure = options.failCall?.(n);
    if (failure !== undefined) throw failure;
    for (let step = 1; step <= total; step++) {
      if (o.signal?.aborted) {
        throw new GenerationCanceledError(`canceled after ${step - 1} of ${total} steps`);
      }
      await (options.beforeStep?.(step, total) ?? tick());
      fake.stepsRun += 1;
      o.onProgress?.(step, total, 0);
    }
  };
  const fake: FakeSampler = {
    models: new Map([
      ...names.map((name) => model(name, 'image')),
      ...videoNames.map((name) => model(name, 'video')),
    ]),
    calls: [],
    videoCalls: [],
    stepsRun: 0,
    async generateVideos(model, clips, o: GenerateOptions = {}) {
      const n = fake.calls.length + fake.videoCalls.length;
      fake.videoCalls.push({ model, clips });
      await steps(n, clips[0]?.steps ?? 1, o);
      const k = options.extendContextFrames ?? 2;
      return clips.map((c): VideoResult => {
        const width = c.width ?? 8;
        const height = c.height ?? 8;
        const seed = c.seed ?? 0;
        const count = (c.frames ?? 6) - (c.extendFrom ? k : 0);
        return {
          frames: Array.from({ length: count }, () =>
            new Uint8Array(width * height * 3).fill(seed % 256),
          ),
          width,
          height,
          fps: 8,
          seed,
          request: {
            prompt: c.prompt,
            negativePrompt: c.negativePrompt ?? '',
            seed,
            steps: c.steps ?? 1,
            guidanceScale: c.guidanceScale ?? 1,
            width,
            height,
            sampler: 'euler',
            frames: c.frames ?? 6,
            mode: c.extendFrom ? 'extend' : c.initImage ? 'image_to_video' : 'text_to_video',
          },
          unknownWords: [],
          truncated: false,
        };
      });
    },
    async generate(model, requests, o: GenerateOptions = {}) {
      const n = fake.calls.length + fake.videoCalls.length;
      fake.calls.push({ model, requests });
      const total = requests[0]?.steps ?? 1;
      await steps(n, total, o);
      return requests.map((r): GenerationResult => {
        const width = r.width ?? 128;
        const height = r.height ?? 128;
        const pixels = new Uint8Array(width * height * 3).fill((r.seed ?? 0) % 256);
        return {
          prompt: r.prompt,
          negativePrompt: r.negativePrompt ?? '',
          seed: r.seed ?? 0,
          steps: total,
          guidanceScale: r.guidanceScale ?? 1,
          width,
          height,
          sampler: 'euler',
          pixels,
          unknownWords: [],
          truncated: false,
        };
      });
    },
    release: () => Promise.resolve(),
  };
  return fake;
}

/** A gate for `beforeStep`: steps wait until the test lets them go, one `step()` at a time or all. */
export function stepGate() {
  let open = false;
  let permits = 0;
  const waiting: (() => void)[] = [];
  let reached = 0;
  const latches: { readonly n: number; readonly resolve: () => void }[] = [];
  return {
    beforeStep: (): Promise<void> => {
      reached += 1;
      for (const latch of latches.filter((l) => l.n <= reached)) {
        latches.splice(latches.indexOf(latch), 1);
        latch.resolve();
      }
      if (open) return tick().then(() => undefined);
      if (permits > 0) {
        permits -= 1;
        return tick().then(() => undefined);
      }
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    /** Lets one step go: the one waiting, or else the next to ask. */
    step() {
      const next = waiting.shift();
      if (next) next();
      else permits += 1;
    },
    /** Lets every step go from now on. */
    openAll() {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
    /** How many steps asked to run so far. */
    get reached() {
      return reached;
    },
    /** Resolves once `n` steps (across calls) have asked to run. */
    reachedAt(n: number): Promise<void> {
      if (reached >= n) return Promise.resolve();
      return new Promise((resolve) => latches.push({ n, resolve }));
    },
  };
}
