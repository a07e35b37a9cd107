import { setImmediate as nextTurn } from 'node:timers/promises';
import { encodeText } from './components.ts';
import type { DitModel } from './model.ts';
import { latentNoise } from './noise.ts';
import type { ResolvedRequest } from './request.ts';
import { shiftedSigmas } from './schedulers/flow-match.ts';
import { sampleTextOf } from './stepping/step-engine.ts';
import { paddedBatch, type Stepping } from './stepping/stepping.ts';
import { decodeImages, resultOf } from './to-result.ts';
import type { GenerateOptions, GenerationResult } from './generate.ts';

/**
 * generate() through the model's step loops (continuous batching): every image of the call is a
 * sample of the loop for its size, so concurrent calls share each step. Progress counts the
 * steps of the call's longest request and reaches its total when the last image is done.
 */
export async function generateStepped(
  model: DitModel,
  stepping: Stepping,
  requests: readonly ResolvedRequest[],
  options: GenerateOptions,
): Promise<GenerationResult[]> {
  const { config, tokenizer } = model;
  const start = performance.now();
  const total = Math.max(...requests.map((r) => r.steps));
  const allSteps = requests.reduce((n, r) => n + r.steps, 0);
  let moved = 0;
  let reported = 0;
  const onStep = (): void => {
    moved += 1;
    const done = Math.floor((moved / allSteps) * total);
    if (done > reported) {
      reported = done;
      options.onProgress?.(done, total, performance.now() - start);
    }
  };

  // (2)–(3) Tokenize, and encode [cond…, uncond…] in one text-encoder run.
  const b = requests.length;
  const cond = requests.map((r) => tokenizer.encode(r.prompt));
  const uncond = requests.map((r) => tokenizer.encode(r.negativePrompt));
  const l = tokenizer.maxLength;
  const d = config.textEncoder.hiddenSize;
  const encoding = encodeText(
    model.textEncoder,
    tokenizer.toInputIds([...cond, ...uncond]),
    2 * b,
    l,
  );
  // Awaited below; handled now so that a throw in between cannot leave it unhandled.
  encoding.catch(() => undefined);

  // (4) Each image's noise from its own seed, made while the text encoder runs (off this
  // thread with the native runner: for a batch of 32 the noise is the longest host work).
  // Between two images the thread's other work gets in: the steps of calls already running.
  const f = config.downsampleFactor;
  const c = config.transformer.inChannels;
  const shapes = requests.map((r) => [c, r.height / f, r.width / f] as const);
  const noise: Float32Array[] = [];
  for (const [s, r] of requests.entries()) {
    if (s > 0) await nextTurn();
    noise.push(latentNoise([r.seed], shapes[s] ?? [c, 1, 1]));
  }
  const text = await encoding;

  // (5)–(6) Each image denoised in the loop of its size.
  const latents = await Promise.all(
    requests.map((r, s) =>
      stepping.loop(shapes[s] ?? [c, 1, 1]).submit({
        latents: noise[s] ?? new Float32Array(0),
        text: sampleTextOf(text, s, b, l, d),
        sigmas: shiftedSigmas(r.steps, config.scheduler.shift),
        guidance: r.guidanceScale,
        signal: options.signal,
        onStep,
      }),
    ),
  );

  // (7) Decode to uint8 pixels: one decoder run per image size.
  const pixelsOf = new Array<Uint8Array>(b);
  const bySize = new Map<string, number[]>();
  requests.forEach((r, s) => {
    const key = `${r.width}x${r.height}`;
    const members = bySize.get(key) ?? [];
    members.push(s);
    bySize.set(key, members);
  });
  for (const members of bySize.values()) {
    const first = members[0] ?? 0;
    const request = requests[first];
    const shape = shapes[first];
    if (!request || !shape) continue;
    const per = shape[0] * shape[1] * shape[2];
    // Padded with zero latents to a decode bucket (stepping.decodeBuckets says why).
    const rows = paddedBatch(members.length, stepping.decodeBuckets);
    const x = new Float32Array(rows * per);
    members.forEach((s, k) => {
      x.set(latents[s] ?? new Float32Array(per), k * per);
    });
    const images = await decodeImages(model, x, rows, shape, request.width, request.height);
    members.forEach((s, k) => (pixelsOf[s] = images[k] ?? new Uint8Array(0)));
  }

  // (8) One result per request.
  return requests.map((r, s) => resultOf(r, pixelsOf[s] ?? new Uint8Array(0), cond[s], uncond[s]));
}
