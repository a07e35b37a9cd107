import { encodeText } from './components.ts';
import type { DitModel } from './model.ts';
import { latentNoise } from './noise.ts';
import type { ResolvedRequest } from './request.ts';
import { shiftedSigmas } from './schedulers/flow-match.ts';
import type { SampleText } from './stepping/step-engine.ts';
import { paddedBatch, type Stepping } from './stepping/stepping.ts';
import { decodeRows, resultOf } from './to-result.ts';
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
  const text = await encodeText(
    model.textEncoder,
    tokenizer.toInputIds([...cond, ...uncond]),
    2 * b,
    l,
  );
  const row = (s: number): SampleText => ({
    condHidden: text.hidden.subarray(s * l * d, (s + 1) * l * d),
    uncondHidden: text.hidden.subarray((b + s) * l * d, (b + s + 1) * l * d),
    condPooled: text.pooled.subarray(s * d, (s + 1) * d),
    uncondPooled: text.pooled.subarray((b + s) * d, (b + s + 1) * d),
  });

  // (4)–(6) Each image from its own seed, denoised in the loop of its size.
  const f = config.downsampleFactor;
  const c = config.transformer.inChannels;
  const latents = await Promise.all(
    requests.map((r, s) => {
      const shape = [c, r.height / f, r.width / f] as const;
      return stepping.loop(shape).submit({
        latents: latentNoise([r.seed], shape),
        text: row(s),
        sigmas: shiftedSigmas(r.steps, config.scheduler.shift),
        guidance: r.guidanceScale,
        signal: options.signal,
        onStep,
      });
    }),
  );

  // (7) Decode: one VAE run per image size.
  const rgbOf = new Array<Float32Array>(b);
  const bySize = new Map<string, number[]>();
  requests.forEach((r, s) => {
    const key = `${r.width}x${r.height}`;
    const members = bySize.get(key) ?? [];
    members.push(s);
    bySize.set(key, members);
  });
  for (const members of bySize.values()) {
    const first = requests[members[0] ?? 0];
    if (!first) continue;
    const shape = [c, first.height / f, first.width / f] as const;
    const per = shape[0] * shape[1] * shape[2];
    // Padded with zero latents to a decode bucket (stepping.decodeBuckets says why).
    const rows = paddedBatch(members.length, stepping.decodeBuckets);
    const x = new Float32Array(rows * per);
    members.forEach((s, k) => {
      x.set(latents[s] ?? new Float32Array(per), k * per);
    });
    const rgb = await decodeRows(model, x, rows, shape, first.width, first.height);
    const plane = 3 * first.width * first.height;
    members.forEach((s, k) => (rgbOf[s] = rgb.subarray(k * plane, (k + 1) * plane)));
  }

  // (8) uint8 RGB HWC per request.
  return requests.map((r, s) => resultOf(r, rgbOf[s] ?? new Float32Array(0), cond[s], uncond[s]));
}
