import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newIdempotencyKey } from '../../sdk/client/client.ts';
import { parseRetryAfter, retryDelayMs, DEFAULT_RETRY } from '../../sdk/client/retry.ts';
import { readSse, type SseMessage } from '../../sdk/client/sse.ts';

/** A body that delivers `bytes` in the chunks given by `cuts` (offsets), as a network would. */
function chunked(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const offsets = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort(
    (a, b) => a - b,
  );
  return new ReadableStream({
    start(controller) {
      for (let i = 1; i < offsets.length; i++) {
        controller.enqueue(bytes.slice(offsets[i - 1], offsets[i]));
      }
      controller.close();
    },
  });
}

async function all(body: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(body)) out.push(m);
  return out;
}

const STREAM = [
  ': keep-alive',
  'id: 1',
  'event: status',
  'data: {"status":"queued","prompt":"ünïcödé ✓"}',
  '',
  'event: progress',
  'data: {"step":1,',
  'data: "total":4}',
  'id: 2',
  '',
  'data:no space',
  '',
  'event: done',
  'data: {}',
  '',
  'data: never dispatched (no blank line)',
].join('\n');

const EXPECTED: SseMessage[] = [
  { event: 'status', data: '{"status":"queued","prompt":"ünïcödé ✓"}', id: '1' },
  { event: 'progress', data: '{"step":1,\n"total":4}', id: '2' },
  { event: 'message', data: 'no space', id: '2' },
  { event: 'done', data: '{}', id: '2' },
];

describe('readSse', () => {
  it('parses events, multi-line data, ids and comments whatever the chunking and line ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        async (cuts, eol, endsAfterDone) => {
          // The server closes right after `done`'s blank line; a partial event is dropped.
          const text = endsAfterDone ? STREAM.slice(0, STREAM.lastIndexOf('\n') + 1) : STREAM;
          const bytes = new TextEncoder().encode(text.replaceAll('\n', eol));
          expect(await all(chunked(bytes, cuts))).toEqual(EXPECTED);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('releases the stream when the reader stops early', async () => {
    let canceled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: one\n\ndata: two\n\n'));
      },
      cancel() {
        canceled = true;
      },
    });
    for await (const m of readSse(body)) {
      expect(m.data).toBe('one');
      break;
    }
    expect(canceled).toBe(true);
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('waits what Retry-After says, else a full-jitter backoff below a doubling ceiling', () => {
    expect(retryDelayMs(3, 5000, DEFAULT_RETRY, () => 0.99)).toBe(5000);
    const ceilings = [1, 2, 3, 4, 5, 6].map((r) =>
      retryDelayMs(r, undefined, DEFAULT_RETRY, () => 1),
    );
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(retryDelayMs(4, undefined, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});

describe('newIdempotencyKey', () => {
  it('makes distinct RFC 4122 version 4 UUIDs', () => {
    const keys = Array.from({ length: 200 }, () => newIdempotencyKey());
    for (const key of keys) {
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });
});
