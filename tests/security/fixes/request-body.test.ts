/**
 * Bodies that break the rules get an answer a client can read (issue 18): a body over the limit
 * is drained (up to a bound) before the 413, so clients that write the whole body before reading
 * (Python's urllib, requests) see the problem+json instead of a reset; a body shorter than its
 * Content-Length is a 400, never a logged 500.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../../core/logger.ts';
import { DRAIN_MAX_BYTES } from '../../../functions/api/middleware/json-body.ts';
import { listen, type ListeningServer } from '../../../functions/api/server.ts';
import { makeApi } from '../../api/harness.ts';

const logs: string[] = [];
let server: ListeningServer;
let key: string;

beforeAll(async () => {
  const api = await makeApi({
    logger: jsonLogger('test', (line) => logs.push(line)),
    limits: { requestsPerSecond: 1000, burst: 1000 },
  });
  key = api.alice;
  server = await listen(api.app, { host: '127.0.0.1', port: 0 });
});
afterAll(() => server.close());

interface RawAnswer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  readonly error?: string;
}

function parse(raw: string, error?: string): RawAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
    headers: head.toLowerCase(),
    body: end >= 0 ? raw.slice(end + 4) : '',
    ...(error ? { error } : {}),
  };
}

/**
 * A client as urllib is: it writes the request head and every chunk of the body, one after the
 * other (`pauseMs` between them, as a slow uplink would), then reads the answer.
 */
function writeAllThenRead(
  head: string,
  chunks: readonly Buffer[],
  options: { pauseMs?: number; finish?: 'end' | 'destroy' | 'wait' } = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    let failure: string | undefined;
    socket.on('error', (e) => (failure = e.message));
    socket.on('close', () => {
      resolve(parse(Buffer.concat(received).toString('utf8'), failure));
    });
    void (async () => {
      socket.write(head);
      for (const chunk of chunks) {
        const ok = await new Promise<boolean>((done) => {
          socket.write(chunk, (e) => {
            done(!e);
          });
        });
        if (!ok) return;
        if (options.pauseMs) await sleep(options.pauseMs);
      }
      // Only now does it read, as urllib does.
      socket.on('data', (d: Buffer) => received.push(d));
      if (options.finish === 'end') socket.end();
      if (options.finish === 'destroy') socket.destroy();
    })();
  });
}

const headOf = (extra: string) =>
  `POST /v1/generations HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${key}\r\n` +
  `Content-Type: application/json\r\nConnection: close\r\n${extra}\r\n`;

function expectProblem(answer: RawAnswer, status: number, code: string) {
  expect(answer.status, JSON.stringify(answer).slice(0, 300)).toBe(status);
  expect(answer.headers).toContain('content-type: application/problem+json');
  expect((JSON.parse(answer.body) as { code: string }).code).toBe(code);
}

describe('413 that the client reads', () => {
  it('a client that writes its whole oversized body slowly, then reads, gets the 413', async () => {
    // 2 MiB in 64 KiB pieces with a pause between: longer than any fixed drain timeout.
    const chunks = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x61));
    const answer = await writeAllThenRead(headOf(`Content-Length: ${32 * 64 * 1024}\r\n`), chunks, {
      pauseMs: 40,
    });
    expect(answer.error).toBeUndefined();
    expectProblem(answer, 413, 'payload_too_large');
  });

  it('the same without Content-Length (chunked)', async () => {
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const chunks = [
      ...Array.from({ length: 16 }, () =>
        Buffer.concat([
          Buffer.from(`${piece.length.toString(16)}\r\n`),
          piece,
          Buffer.from('\r\n'),
        ]),
      ),
      Buffer.from('0\r\n\r\n'),
    ];
    const answer = await writeAllThenRead(headOf('Transfer-Encoding: chunked\r\n'), chunks, {
      pauseMs: 40,
    });
    expect(answer.error).toBeUndefined();
    expectProblem(answer, 413, 'payload_too_large');
  });

  it('Python’s urllib, which sends everything before reading, sees the problem+json', async () => {
    const bytes = 12 * 1024 * 1024;
    expect(bytes).toBeLessThanOrEqual(DRAIN_MAX_BYTES);
    const script = [
      'import sys, urllib.request, urllib.error',
      `req = urllib.request.Request(sys.argv[1], data=b"a" * ${bytes}, headers={"content-type": "application/json", "authorization": "Bearer " + sys.argv[2]})`,
      'try:',
      '    urllib.request.urlopen(req)',
      'except urllib.error.HTTPError as e:',
      '    print(e.code, e.headers.get("content-type"), e.read().decode())',
    ].join('\n');
    const out = await new Promise<string>((resolve) => {
      execFile(
        'python3',
        ['-c', script, `${server.url}/v1/generations`, key],
        (error, stdout, stderr) => {
          resolve(`${stdout}${stderr}${error && !stdout ? error.message : ''}`);
        },
      );
    });
    expect(out).toMatch(/^413 application\/problem\+json \{.*"code":"payload_too_large"/);
  });

  it('beyond the drain bound it still answers 413 to a client that reads while it sends', async () => {
    const answer = await writeAllThenRead(
      headOf(`Content-Length: ${DRAIN_MAX_BYTES * 4}\r\n`),
      [Buffer.alloc(1024, 0x61)],
      { finish: 'wait' },
    );
    expectProblem(answer, 413, 'payload_too_large');
  });
});

describe('a body shorter than its Content-Length', () => {
  const partial = Buffer.from('{"prompt": "a red');

  const requestLines = () =>
    logs.filter((l) => l.includes('"path":"/v1/generations"') && l.includes('"message":"request'));

  it('the client ends its side: 400 problem+json, and no error in the logs', async () => {
    const before = requestLines().length;
    const answer = await writeAllThenRead(headOf('Content-Length: 100\r\n'), [partial], {
      finish: 'end',
    });
    expectProblem(answer, 400, 'incomplete_body');
    // The app sees the cut body too; wait for its access-log line.
    while (requestLines().length === before) await sleep(10);
    expect(logs.filter((l) => l.includes('"level":"ERROR"'))).toEqual([]);
    expect(requestLines().at(-1)).toContain('"status":400');
  });

  it('the client goes away: logged as a 400, not an unhandled 500', async () => {
    const before = requestLines().length;
    await writeAllThenRead(headOf('Content-Length: 100\r\n'), [partial], { finish: 'destroy' });
    while (requestLines().length === before) await sleep(10);
    expect(logs.filter((l) => l.includes('"level":"ERROR"'))).toEqual([]);
    expect(requestLines().at(-1)).toContain('"status":400');
  });
});

describe('what Node’s parser refuses is problem+json too', () => {
  it('a malformed request line', async () => {
    const answer = await writeAllThenRead('GARBAGE\r\n\r\n', [], { finish: 'wait' });
    expectProblem(answer, 400, 'malformed_http');
  });

  it('headers too large', async () => {
    const answer = await writeAllThenRead(
      `GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      [],
      { finish: 'wait' },
    );
    expectProblem(answer, 431, 'headers_too_large');
  });
});
