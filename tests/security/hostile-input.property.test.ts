/**
 * Hostile input at every endpoint, in process (app.request, memory adapters, keys required):
 * random path parameters (ids, file keys: traversal, encodings, control characters), query
 * strings, header values, and bodies of any bytes (invalid UTF-8 included) on every route and
 * method; then deep nesting, oversized bodies and absurd numbers as tables. Every answer is a
 * 2xx or a 4xx application/problem+json with a known code, never a 5xx.
 * tests/api/validation.property.test.ts fuzzes the two create routes' JSON fields; this covers
 * the rest. What only a real socket can send (CRLF in headers, malformed HTTP, bodies shorter
 * than announced) is in raw-http.test.ts.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../core/errors.ts';
import { makeApi } from '../api/harness.ts';

const KNOWN_CODES = new Set(Object.keys(HTTP_STATUS));

let api: Awaited<ReturnType<typeof makeApi>>;
let realId = '';
beforeAll(async () => {
  api = await makeApi({
    limits: { requestsPerSecond: 1e9, burst: 1e9, maxQueuedPerTenant: 1e9, maxWaitSeconds: 0 },
  });
  const created = await api.call(api.alice, 'POST', '/v1/generations', { prompt: 'a red circle' });
  realId = ((await created.json()) as { id: string }).id;
});

/** A request that cannot even be built (the URL or a header value) never reaches the app. */
function buildable(path: string, headers: Record<string, string>): boolean {
  try {
    new Request(`http://localhost${path}`, { headers });
    return true;
  } catch {
    return false;
  }
}

async function expectWellFormed(response: Response, what: string): Promise<number> {
  const text = await response.text();
  // A fuzzed body that happens to be a valid OpenAI request is accepted; with no worker here its
  // synchronous wait runs out at once: the documented 504 wait_timeout, not a server fault.
  const waitRanOut = response.status === 504 && text.includes('"code":"wait_timeout"');
  if (response.status >= 500 && !waitRanOut) {
    throw new Error(`${String(response.status)} for ${what}: ${text}`);
  }
  if (response.status >= 400) {
    expect(response.headers.get('content-type'), what).toBe('application/problem+json');
    const problem = JSON.parse(text) as { code: string; status: number };
    expect(KNOWN_CODES.has(problem.code), `${problem.code} for ${what}`).toBe(true);
    expect(problem.status).toBe(response.status);
  }
  return response.status;
}

/** Segments that have broken path handling somewhere: traversal, encodings, NUL, overlong UTF-8. */
const nastySegment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^gen_[0-9A-Za-z]{0,80}$/),
  fc.constantFrom(
    '..',
    '../..',
    '../../../../etc/passwd',
    '..%2f..%2f',
    '%2e%2e%2f',
    '%252e%252e%252f',
    '%c0%ae%c0%ae%c0%af',
    '%00',
    '%ff%fe',
    '\u0000',
    'gen_../x',
    'gen_%2e%2e',
    'gen_' + 'A'.repeat(65),
    '.',
    '',
    '~',
    'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B;drop',
    'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B\\..',
    'CON',
    '\u202egpj.exe',
  ),
);

/** As a client might put it in a URL: encoded as a component, barely encoded, or not at all. */
const inPath = fc
  .tuple(nastySegment, fc.constantFrom('component', 'uri', 'raw'))
  .map(([s, how]) =>
    how === 'component' ? encodeURIComponent(s) : how === 'uri' ? encodeURI(s) : s,
  );

const ROUTES: readonly ((segment: string) => readonly [string, string])[] = [
  (s) => ['GET', `/v1/generations/${s}`],
  (s) => ['POST', `/v1/generations/${s}/cancel`],
  (s) => ['GET', `/v1/generations/${s}/events`],
  (s) => ['GET', `/v1/generations/${s}/webhook/deliveries`],
  (s) => ['POST', `/v1/generations/${s}/webhook/redeliver`],
  (s) => ['GET', `/v1/models/${s}`],
  (s) => ['GET', `/v1/files/${s}?expires=9999999999&sig=x`],
  (s) => ['GET', `/v1/files/jobs/tenant-alice/${s}/out/0.png?expires=1&sig=${s}`],
  (s) => ['GET', `/v1/${s}`],
  (s) => ['GET', `/${s}`],
];

const queryValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('-1', '0', '1e309', 'NaN', '101', '1.5', '99999999999999999999', '[]', '{}'),
);

/** Header values the Fetch API lets through (no CR, LF or NUL; those are raw-http.test.ts's). */
const headerValue = fc.oneof(
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
    maxLength: 300,
  }),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Bearer dsk_',
    'Basic YWxpY2U6c2VjcmV0',
    'application/json; charset=utf-16',
    'application/json; charset="\\"',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'wait=99999999999999999999',
    'wait=-1, wait=5',
    'respond-async, wait=1',
    'x'.repeat(8000),
  ),
);

const anyBody = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.constantFrom(
    new Uint8Array([0xff, 0xfe, 0xfd]),
    new Uint8Array([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), // {"p":"\xc3(" }
    new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // BOM + {}
    new Uint8Array([0xed, 0xa0, 0x80]), // a UTF-16 surrogate in "UTF-8"
    new TextEncoder().encode('{"prompt":"a red circle"}'),
  ),
);

describe('random path parameters, queries, headers and bodies on every route', () => {
  it('path parameters: ids and file keys of any shape', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(inPath, fc.integer({ min: 0, max: ROUTES.length - 1 }), async (s, r) => {
        const [method, path] = ROUTES[r]?.(s) ?? ['GET', '/'];
        fc.pre(buildable(path, {}));
        seen.add(
          await expectWellFormed(await api.call(api.alice, method, path), `${method} ${path}`),
        );
      }),
      { numRuns: 600 },
    );
    expect([...seen].some((s) => s >= 400)).toBe(true);
  });

  it('query strings of the list and file routes', async () => {
    const keys = fc.constantFrom('limit', 'cursor', 'status', 'expires', 'sig', 'x', 'limit[]');
    const query = fc
      .array(fc.tuple(keys, queryValue), { maxLength: 4 })
      .map((pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/generations',
          '/v1/files/jobs/tenant-alice/gen_x/out/0.png',
          '/v1/models',
        ),
        query,
        async (path, q) => {
          await expectWellFormed(await api.call(api.alice, 'GET', `${path}?${q}`), `${path}?${q}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('header values on every route, with and without a body', async () => {
    const names = fc.constantFrom(
      'authorization',
      'content-type',
      'idempotency-key',
      'prefer',
      'x-request-id',
      'accept',
      'last-event-id',
      'accept-encoding',
    );
    const routes = fc.constantFrom(
      ['POST', '/v1/generations'],
      ['POST', '/v1/images/generations'],
      ['GET', '/v1/generations'],
      ['GET', '/v1/generations/:real'],
      ['POST', '/v1/generations/:real/cancel'],
      ['GET', '/v1/generations/:real/events'],
      ['POST', '/v1/webhooks/secret/rotate'],
      ['GET', '/v1/models'],
      ['GET', '/healthz'],
      ['PUT', '/v1/generations'],
    );
    await fc.assert(
      fc.asyncProperty(
        routes,
        fc.dictionary(names, headerValue, { maxKeys: 4 }),
        fc.option(anyBody),
        fc.boolean(),
        async ([method = 'GET', route = '/'], headers, body, keyed) => {
          const path = route.replace(':real', realId);
          const all = {
            ...(keyed && !('authorization' in headers)
              ? { authorization: `Bearer ${api.alice}` }
              : {}),
            ...headers,
          };
          fc.pre(buildable(path, all));
          const canHaveBody = !['GET', 'HEAD'].includes(method);
          // An events stream of a live job would stay open: read only the first answer.
          const response = await api.app.request(path, {
            method,
            headers: all,
            ...(canHaveBody && body ? { body } : {}),
          });
          if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
            expect(response.status).toBe(200);
            await response.body?.cancel();
            return;
          }
          const what = `${method} ${path} ${JSON.stringify(all).slice(0, 300)}`;
          await expectWellFormed(response, what);
          const id = response.headers.get('x-request-id') ?? '';
          expect(id).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
        },
      ),
      { numRuns: 600 },
    );
  });
});

/** `depth` levels of `open`…`close` around `inner`. */
const nest = (depth: number, open: string, close: string, inner = '1') =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

describe('deep, large and absurd bodies', () => {
  const deep: readonly (readonly [string, string])[] = [
    ['10,000 nested arrays', nest(10_000, '[', ']')],
    ['20,000 nested arrays as the prompt', `{"prompt":${nest(20_000, '[', ']')}}`],
    [
      '10,000 nested objects as metadata',
      `{"prompt":"a red circle","metadata":${nest(10_000, '{"a":', '}')}}`,
    ],
    [
      '5,000 nested objects as the webhook',
      `{"prompt":"a red circle","webhook":${nest(5_000, '{"url":', '}', '"https://x.example/h"')}}`,
    ],
    ['30,000 nested arrays (over the size limit)', nest(30_000, '[', ']')],
    ['one 1 MB string', JSON.stringify({ prompt: 'a'.repeat(1 << 20) })],
    [
      '60,000 keys',
      `{${Array.from({ length: 6000 }, (_, i) => `"k${String(i)}":1`).join(',')},"prompt":"a"}`,
    ],
    [
      'a 60 KB array of numbers',
      `{"prompt":"a","steps":[${Array.from({ length: 15_000 }, () => '1').join(',')}]}`,
    ],
  ];
  it.each(deep)('%s', async (_, body) => {
    for (const path of ['/v1/generations', '/v1/images/generations']) {
      const status = await expectWellFormed(
        await api.call(api.alice, 'POST', path, body),
        `${path} ${body.slice(0, 60)}`,
      );
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  const absurd: readonly (readonly [string, string])[] = [
    ['steps', '1e309'],
    ['steps', '-1e309'],
    ['steps', '1e-400'],
    ['steps', '-0'],
    ['steps', '9007199254740993'],
    ['steps', '1.0000000000000002'],
    ['seed', '18446744073709551617'],
    ['seed', '-1'],
    ['seed', '1e308'],
    ['width', '1e6'],
    ['height', '0.5'],
    ['guidance_scale', '1e309'],
    ['guidance_scale', '-1e-320'],
    ['num_images', '1e3'],
    ['num_images', '"1"'],
    ['steps', '"NaN"'],
    ['steps', '"Infinity"'],
    ['steps', '0x10'],
    ['steps', 'NaN'],
    ['steps', '01'],
  ];
  it.each(absurd)('%s: %s', async (field, value) => {
    const body = `{"prompt":"a red circle","${field}":${value}}`;
    const status = await expectWellFormed(
      await api.call(api.alice, 'POST', '/v1/generations', body),
      body,
    );
    expect(status).toBeGreaterThanOrEqual(400);
  });
});
