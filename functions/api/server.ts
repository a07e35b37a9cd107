import { getRequestListener, RequestError } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DitserveError, type ErrorCode } from '../../core/errors.ts';
import { problemDocument } from './problem.ts';

export interface ListeningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /**
   * Stops accepting connections, lets the responses in flight finish for up to `graceMs`
   * (answers to `Prefer: wait` and SSE streams end promptly once the app's shutdown signal has
   * fired), then closes whatever is left.
   */
  close(graceMs?: number): Promise<void>;
}

/** An error Node's HTTP parser met before the app saw a request. */
class ClientHttpError extends DitserveError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Node's parser codes → our problem codes. */
function clientErrorOf(error: NodeJS.ErrnoException): ClientHttpError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ClientHttpError('headers_too_large', 'the request headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return new ClientHttpError('request_timeout', 'the request did not arrive in time');
    case 'HPE_INVALID_EOF_STATE':
      return new ClientHttpError(
        'incomplete_body',
        'the connection ended before the request (its body included) was complete',
      );
    default:
      return new ClientHttpError(
        'malformed_http',
        `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`,
      );
  }
}

/**
 * What Node's HTTP parser refuses (a malformed request line or header, headers too large, a body
 * cut short by the client's end of stream) never reaches the app; answer it as problem+json too,
 * when nothing was written on the connection yet, instead of Node's bare `400 Bad Request`.
 */
function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const written = (socket as Partial<Socket>).bytesWritten ?? 0;
  if (error.code === 'ECONNRESET' || !socket.writable || written > 0) {
    socket.destroy();
    return;
  }
  const problem = problemDocument(clientErrorOf(error), randomUUID());
  const body = JSON.stringify(problem);
  const reasons: Record<number, string> = {
    408: 'Request Timeout',
    431: 'Request Header Fields Too Large',
  };
  socket.end(
    `HTTP/1.1 ${problem.status} ${reasons[problem.status] ?? 'Bad Request'}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${problem.request_id}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

/**
 * A request Node parsed but no URL can be built from (no Host header, a bad Host value, a
 * backslash in the path): @hono/node-server would answer a bare 400; this is the problem+json
 * one. Errors of the app itself never come here (its onError answers them).
 */
function onRequestError(error: unknown): Response {
  if (!(error instanceof RequestError)) throw error;
  const problem = problemDocument(
    new ClientHttpError('malformed_http', `the request has no usable URL: ${error.message}`),
    randomUUID(),
  );
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': problem.request_id },
  });
}

/** The Node entry: serves any Hono app (the API) on host:port; port 0 picks a free one. */
export function listen(
  app: Pick<Hono, 'fetch'>,
  options: { port: number; host: string },
): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    // Node would refuse a request without Host itself, with an empty 400: let it through to
    // onRequestError, which says what is wrong.
    const handle = getRequestListener(app.fetch, { errorHandler: onRequestError });
    const server = createServer({ requireHostHeader: false }, (request, response) => {
      void handle(request, response);
    });
    server.listen(options.port, options.host, () => {
      const info = server.address() as AddressInfo;
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        server,
        port: info.port,
        url: `http://${host}:${info.port}`,
        close: (graceMs = 0) =>
          new Promise<void>((done) => {
            const force = setTimeout(() => {
              server.closeAllConnections();
            }, graceMs);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
    server.on('clientError', onClientError);
    server.once('error', reject);
  });
}
