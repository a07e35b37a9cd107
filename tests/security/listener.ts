import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A real HTTP listener that counts every TCP connection made to it, whatever came over it. */
export interface CountingListener {
  readonly port: number;
  /** TCP connections accepted so far (a connection that sent nothing counts too). */
  connections(): number;
  /** Requests that got as far as a request line. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Listens on `::` unless told otherwise (dual stack: every address of this machine, loopback in both families and
 * the host's own interface addresses), so any spelling of "this machine" that a client manages
 * to connect to lands here and is counted. `reply` answers requests (204 by default).
 */
export async function startCountingListener(
  where: { host: string; port: number } = { host: '::', port: 0 },
  reply: (url: string) => { status: number; headers?: Record<string, string> } = () => ({
    status: 204,
  }),
): Promise<CountingListener> {
  let connections = 0;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const { status, headers } = reply(req.url ?? '');
    res.writeHead(status, headers).end();
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ ...where, ipv6Only: where.host !== '::' && where.host.includes(':') }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}
