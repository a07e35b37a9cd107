import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DitserveError, type ErrorCode } from '../../core/errors.ts';
import { problemDocument } from './problem.ts';

export interface ListeningServer {
  readonly server: ServerType;
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

/** The Node entry: serves any Hono app (the API) on host:port; port 0 picks a free one. */
export function listen(
  app: Pick<Hono, 'fetch'>,
  options: { port: number; host: string },
): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port, hostname: options.host },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          server,
          port: info.port,
          url: `http://${host}:${info.port}`,
          close: (graceMs = 0) =>
            new Promise<void>((done) => {
              const http = server as ServerType & {
                closeIdleConnections?: () => void;
                closeAllConnections?: () => void;
              };
              const force = setTimeout(() => http.closeAllConnections?.(), graceMs);
              server.close(() => {
                clearTimeout(force);
                done();
              });
              http.closeIdleConnections?.();
            }),
        });
      },
    );
    server.on('clientError', onClientError);
    server.once('error', reject);
  });
}
