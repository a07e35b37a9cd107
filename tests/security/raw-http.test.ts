/**
 * What only a raw socket can send, against the API on a real listener (functions/api/server.ts):
 * malformed HTTP, CR/LF and NUL in headers, header sections over Node's 16 KiB, raw
 * traversal and non-UTF-8 paths, chunked bodies that break off, bodies over the limit and
 * bodies shorter than announced.
 *
 * Requests HTTP/1.1 itself forbids never reach the app: Node's parser (llhttp) refuses them, and
 * the server's clientError handler (functions/api/server.ts) answers them as problem+json too
 * (`malformed_http` 400, `headers_too_large` 431), `Connection: close`; by itself Node would
 * answer a bare `400 Bad Request` with no body (MALFORMED). Requests that parse but that no
 * URL can be made of (ADAPTER_REFUSES) get a `malformed_http` problem+json from the server's
 * request-error handler. Everything else reaches the app and gets a 4xx
 * application/problem+json. Either way the server stays up and logs no 5xx.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../../core/errors.ts';
import { jsonLogger } from '../../core/logger.ts';
import { listen, type ListeningServer } from '../../functions/api/server.ts';
import { makeApi } from '../api/harness.ts';

let server: ListeningServer;
let key = '';
const logs: string[] = [];
beforeAll(async () => {
  const api = await makeApi({ logger: jsonLogger('raw-http', (line) => logs.push(line)) });
  key = api.alice;
  server = await listen(api.app, { host: '127.0.0.1', port: 0 });
});
afterAll(() => server.close());

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The connection was reset before the whole answer arrived. */
  readonly reset: boolean;
}

/** Sends `bytes` as they are and reads until the server closes the connection. */
function raw(bytes: string | Buffer, after?: (socket: ReturnType<typeof connect>) => void) {
  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 20 s; got ${Buffer.concat(chunks).toString('latin1')}`));
    }, 20_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ status, headers, body: rest.join('\r\n\r\n'), reset });
    });
    socket.write(bytes);
    after?.(socket);
  });
}

/** Reads a chunked body back into its data. */
function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

function problemOf(answer: RawAnswer): { code: string; status: number } {
  expect(answer.headers['content-type']).toBe('application/problem+json');
  const text =
    answer.headers['transfer-encoding'] === 'chunked' ? unchunk(answer.body) : answer.body;
  const problem = JSON.parse(text) as { code: string; status: number };
  expect(Object.keys(HTTP_STATUS)).toContain(problem.code);
  expect(problem.status).toBe(answer.status);
  return problem;
}

const H = 'Host: 127.0.0.1\r\nConnection: close\r\n';
const auth = () => `Authorization: Bearer ${key}\r\n`;

/** Requests Node's HTTP parser refuses, and the status of the answer. */
const MALFORMED: readonly (readonly [string, () => string | Buffer, number])[] = [
  [
    'a bare CR inside a header value',
    () => `GET /v1/models HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`,
    400,
  ],
  [
    'a bare LF (header injection)',
    () => `GET /v1/models HTTP/1.1\r\n${H}X-A: a\nSet-Cookie: x=1\r\n\r\n`,
    400,
  ],
  ['a NUL in a header value', () => `GET /v1/models HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, 400],
  ['a header line without a colon', () => `GET /v1/models HTTP/1.1\r\n${H}Garbage\r\n\r\n`, 400],
  ['a space in a header name', () => `GET /v1/models HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n`, 400],
  [
    'an obsolete folded header line',
    () => `GET /v1/models HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`,
    400,
  ],
  [
    'Content-Length with Transfer-Encoding (smuggling)',
    () =>
      `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
  ],
  [
    'two different Content-Lengths',
    () => `POST /v1/generations HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
    400,
  ],
  [
    'a negative Content-Length',
    () => `POST /v1/generations HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
    400,
  ],
  [
    'a Content-Length of 23 digits',
    () => `POST /v1/generations HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n`,
    400,
  ],
  ['an unknown method', () => `BREW /v1/models HTTP/1.1\r\n${H}\r\n`, 400],
  ['HTTP/9.9', () => `GET /v1/models HTTP/9.9\r\n${H}\r\n`, 400],
  ['a space in the path', () => `GET /v1/gen erations HTTP/1.1\r\n${H}\r\n`, 400],
  [
    'raw non-ASCII bytes in the path',
    () =>
      Buffer.concat([
        Buffer.from('GET /v1/generations/'),
        Buffer.from([0xc0, 0xae, 0xff]),
        Buffer.from(` HTTP/1.1\r\n${H}\r\n`),
      ]),
    400,
  ],
  [
    'a TLS handshake on the plain port',
    () => Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
    400,
  ],
  [
    'a 17 KiB header section',
    () => `GET /v1/models HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17_000)}\r\n\r\n`,
    431,
  ],
];

/**
 * Requests that parse but that no Request can be made of (no Host header, a backslash in the
 * path, a Host that is not a host): @hono/node-server cannot hand them to the app, and the
 * server answers them itself (functions/api/server.ts onRequestError), as problem+json.
 */
const ADAPTER_REFUSES: readonly (readonly [string, () => string])[] = [
  ['no Host header', () => `GET /v1/models HTTP/1.1\r\nConnection: close\r\n\r\n`],
  ['a backslash in the path', () => `GET /v1/files/..\\..\\file-signing.key HTTP/1.1\r\n${H}\r\n`],
  [
    'a Host header that is not a host',
    () => `GET /v1/models HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n\r\n`,
  ],
];

describe("requests Node's parser refuses", () => {
  it.each(MALFORMED)(
    '%s: a problem+json, then the connection closes',
    async (_, request, status) => {
      const answer = await raw(request());
      expect(answer.status).toBe(status);
      expect(answer.headers.connection).toBe('close');
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(problemOf(answer).code).toBe(status === 431 ? 'headers_too_large' : 'malformed_http');
    },
  );

  it.each(ADAPTER_REFUSES)(
    '%s: a malformed_http problem+json, before the app',
    async (_, request) => {
      const answer = await raw(request());
      expect(answer.status).toBe(400);
      expect(problemOf(answer).code).toBe('malformed_http');
    },
  );
});

describe('hostile requests that reach the app: a 4xx problem+json', () => {
  const cases: readonly (readonly [string, () => string | Buffer, number])[] = [
    [
      'raw ../ traversal to the signing key',
      () => `GET /v1/files/../../file-signing.key?expires=9999999999&sig=x HTTP/1.1\r\n${H}\r\n`,
      404,
    ],
    [
      'encoded ..%2f traversal',
      () =>
        `GET /v1/files/..%2f..%2ffile-signing.key?expires=9999999999&sig=x HTTP/1.1\r\n${H}\r\n`,
      404,
    ],
    [
      '%2e%2e segments',
      () =>
        `GET /v1/files/%2e%2e/%2e%2e/file-signing.key?expires=9999999999&sig=x HTTP/1.1\r\n${H}\r\n`,
      404,
    ],
    [
      'invalid UTF-8, percent-encoded, in an id',
      () => `GET /v1/generations/gen_%ff%fe%c0%ae HTTP/1.1\r\n${H}${auth()}\r\n`,
      404,
    ],
    [
      'an absolute URI naming another host',
      () => `GET http://evil.example/v1/generations HTTP/1.1\r\n${H}\r\n`,
      401,
    ],
    [
      'a body of invalid UTF-8',
      () =>
        Buffer.concat([
          Buffer.from(
            `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nContent-Length: 15\r\n\r\n{"prompt":"`,
          ),
          Buffer.from([0xff, 0xc3]),
          Buffer.from('"}'),
        ]),
      400,
    ],
    [
      'a chunked body that breaks its framing',
      () =>
        `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n`,
      400,
    ],
    [
      'Transfer-Encoding: gzip, no body',
      () =>
        `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n`,
      400,
    ],
  ];
  it.each(cases)('%s', async (_, request, status) => {
    const answer = await raw(request());
    expect(answer.status).toBe(status);
    problemOf(answer);
  });

  it('CR/LF in a header the API echoes cannot split the answer: X-Request-Id is replaced', async () => {
    // The client-side spelling of an injection: percent-encoded and with Unicode line breaks.
    for (const value of [
      'abcdefgh%0d%0aSet-Cookie:%20x=1',
      'abcdefgh\u2028Set-Cookie',
      'abcdefgh\u0085x',
    ]) {
      const answer = await raw(
        Buffer.concat([
          Buffer.from(`GET /v1/models HTTP/1.1\r\n${H}${auth()}X-Request-Id: `),
          Buffer.from(value, 'utf8'),
          Buffer.from('\r\n\r\n'),
        ]),
      );
      expect(answer.status).toBe(200);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    }
  });
});

describe('bodies over the limit and shorter than announced', () => {
  it('a body over the limit gets a 413 problem+json the client can read after sending it all', async () => {
    // What urllib and requests do: send the whole body, then read. 1 MiB against the 64 KiB limit.
    const body = Buffer.alloc(1 << 20, 'a');
    const answer = await raw(
      Buffer.concat([
        Buffer.from(
          `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nContent-Length: ${String(body.length)}\r\n\r\n`,
        ),
        body,
      ]),
    );
    expect(answer.status).toBe(413);
    expect(problemOf(answer).code).toBe('payload_too_large');
  });

  it('a client that announces more body than it sends and hangs up is not a 5xx', async () => {
    const before = logs.length;
    // Expect: 100-continue makes the server say when it has the request (its 100 Continue):
    // only then does the client send part of the body and hang up.
    await raw(
      `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n`,
      (socket) => {
        socket.once('data', () => {
          socket.write('{"prompt":', () => socket.destroy());
        });
      },
    );
    // The server notices the hang-up on its own time: wait (bounded) for its line about it.
    const deadline = Date.now() + 10_000;
    const lines = () =>
      logs
        .slice(before)
        .map((l) => JSON.parse(l) as { level: string; path?: string; status?: number });
    while (!lines().some((l) => l.path === '/v1/generations') && Date.now() < deadline)
      await sleep(50);
    const seen = lines();
    expect(seen.map((l) => [l.path, l.status])).toContainEqual(['/v1/generations', 400]);
    expect(seen.filter((l) => l.level === 'ERROR' || (l.status ?? 0) >= 500)).toEqual([]);
  });

  it('a client that announces more body than it sends and stops sending gets a 400', async () => {
    const answer = await raw(
      `POST /v1/generations HTTP/1.1\r\n${H}${auth()}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":`,
      (socket) => {
        socket.end();
      },
    );
    expect(answer.status).toBe(400);
    problemOf(answer);
  });

  it('is still up and answering after all of the above, having logged no 5xx', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\n${H}\r\n`);
    expect(answer.status).toBe(200);
    const errors = logs.filter((l) => /"level":"ERROR"|"status":5\d\d/.test(l));
    expect(errors).toEqual([]);
  });
});
