import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../core/errors.ts';
import type { JobMessage } from '../../core/generation.ts';
import { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import { makeApi } from './harness.ts';
import { instantWorkerQueue } from './support.ts';

const KNOWN_CODES = new Set(Object.keys(HTTP_STATUS));

/** The API with a worker that finishes every job at once, so valid bodies end in 2xx. */
async function api() {
  const jobs = new MemoryJobStore();
  const blobs = new MemoryBlobStore();
  return makeApi({
    jobs,
    blobs,
    queue: instantWorkerQueue(jobs, blobs, new MemoryMessageQueue<JobMessage>()),
    limits: { requestsPerSecond: 1e9, burst: 1e9, maxQueuedPerTenant: 1e9, maxWaitSeconds: 5 },
  });
}

/** Strings that stress normalization and validation: control chars, surrogates, odd scripts. */
const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\u0000',
      '\u0007',
      '\u001b',
      '\u0085',
      '\u2028',
      '\ud800',
      '\udfff',
      '\ufeff',
      'e\u0301',
      '\ufb01',
      'ﬃ',
      '\t',
      '\n',
      ' ',
    ),
    maxLength: 30,
  }),
  fc.constantFrom('', ' ', 'nude', 'ＮＳＦＷ', 'a red circle', 'x'.repeat(2001), 'red '.repeat(31)),
);

const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53,
    2 ** 53 - 1,
    2 ** 64,
    1e-300,
    0.5,
    128,
    192,
    100,
    101,
    200,
    201,
    30,
    31,
  ),
);

const junk = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A valid body for either route, as a base to mutate. */
const validNative = fc.record(
  {
    prompt: fc.constantFrom(
      'a red circle',
      'two blue squares left of a green triangle',
      'Große ROTE Kreise',
    ),
    negative_prompt: fc.constantFrom('', 'yellow'),
    aspect_ratio: fc.constantFrom('1:1', '3:2', '2:3'),
    steps: fc.integer({ min: 1, max: 100 }),
    guidance_scale: fc.double({ min: 0, max: 30, noNaN: true }),
    sampler: fc.constantFrom('euler', 'heun'),
    seed: fc.integer({ min: 0, max: 2 ** 40 }),
    num_images: fc.integer({ min: 1, max: 4 }),
    output_format: fc.constantFrom('png', 'webp', 'jpeg'),
    metadata: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.string({ maxLength: 8 }),
      { maxKeys: 3 },
    ),
    webhook: fc.record({
      url: fc.constantFrom('https://example.com/hook', 'http://127.0.0.1:9/x'),
    }),
  },
  { requiredKeys: ['prompt'] },
);

const validOpenAi = fc.record(
  {
    prompt: fc.constantFrom('a red circle', 'a blue square'),
    n: fc.integer({ min: 1, max: 4 }),
    size: fc.constantFrom('128x128', '192x128', '128x192', 'auto'),
    response_format: fc.constantFrom('url', 'b64_json'),
    output_format: fc.constantFrom('png', 'webp', 'jpeg'),
    user: fc.string({ maxLength: 20 }),
    quality: fc.constantFrom('standard', 'hd'),
    model: fc.constantFrom('dall-e-3', 'shapes-mmdit-s', 'gpt-image-1'),
    seed: fc.integer({ min: 0, max: 2 ** 40 }),
    steps: fc.integer({ min: 1, max: 100 }),
    guidance: fc.double({ min: 0, max: 30, noNaN: true }),
  },
  { requiredKeys: ['prompt'] },
);

/** Near-valid bodies: a valid one with a few fields replaced, removed, added or nested. */
function mutated(base: fc.Arbitrary<Record<string, unknown>>, fields: readonly string[]) {
  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('set' as const),
      field: fc.constantFrom(...fields),
      value: junk,
    }),
    fc.record({ kind: fc.constant('drop' as const), field: fc.constantFrom(...fields) }),
    fc.record({
      kind: fc.constant('add' as const),
      field: fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'width', 'height')),
      value: junk,
    }),
    fc.record({
      kind: fc.constant('nest' as const),
      field: fc.constantFrom(...fields),
      value: fc.jsonValue({ maxDepth: 4 }),
    }),
  );
  return fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([body, ms]) => {
    let out: Record<string, unknown> = { ...body };
    for (const m of ms) {
      if (m.kind === 'drop')
        out = Object.fromEntries(Object.entries(out).filter(([k]) => k !== m.field));
      else if (m.kind === 'nest') out[m.field] = { [m.field]: m.value, list: [m.value] };
      // defineProperty, so that "__proto__" becomes an own key as JSON.parse would make it.
      else
        Object.defineProperty(out, m.field, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  });
}

const NATIVE_FIELDS = [
  'prompt',
  'negative_prompt',
  'model',
  'width',
  'height',
  'aspect_ratio',
  'steps',
  'guidance_scale',
  'sampler',
  'seed',
  'num_images',
  'output_format',
  'webhook',
  'metadata',
];
const OPENAI_FIELDS = [
  'prompt',
  'n',
  'size',
  'response_format',
  'output_format',
  'user',
  'model',
  'seed',
  'steps',
  'guidance',
  'guidance_scale',
  'negative_prompt',
  'quality',
  'output_compression',
];

/** Either a JSON value (serialized) or raw text that may not even be JSON. */
function bodies(base: fc.Arbitrary<Record<string, unknown>>, fields: readonly string[]) {
  return fc.oneof(
    { weight: 4, arbitrary: mutated(base, fields).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: base.map((b) => JSON.stringify(b)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
}

async function check(path: string, body: fc.Arbitrary<string>, numRuns: number) {
  const { call, alice } = await api();
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const response = await call(alice, 'POST', path, text);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const payload = await response.text();
      if (response.status >= 500) throw new Error(`${response.status} for ${text}: ${payload}`);
      if (response.status >= 200 && response.status < 300) return;
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = JSON.parse(payload) as { code: string; status: number };
      expect(KNOWN_CODES.has(problem.code), problem.code).toBe(true);
      expect(problem.status).toBe(response.status);
    }),
    { numRuns },
  );
  // The generator must reach both sides, or the property says little.
  const ok = [...statuses].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
  const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
  expect(ok).toBeGreaterThan(numRuns / 20);
  expect(refused).toBeGreaterThan(numRuns / 4);
}

describe('random bodies never get a 5xx', () => {
  it('POST /v1/generations', async () => {
    await check('/v1/generations', bodies(validNative, NATIVE_FIELDS), 3000);
  });

  it('POST /v1/images/generations', async () => {
    await check('/v1/images/generations', bodies(validOpenAi, OPENAI_FIELDS), 3000);
  });
});
