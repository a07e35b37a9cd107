import { createServer, type RequestListener, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../../../core/config.ts';
import type { WorkerState } from './state.ts';

const LOOPBACK = '127.0.0.1';

export interface HealthServer {
  /** The server on the configured address. */
  readonly server: Server;
  readonly port: number;
  /** Every address it answers on: the configured one, and loopback for the container's check. */
  readonly addresses: readonly string[];
  close(): void;
}

type Interfaces = ReturnType<typeof networkInterfaces>;

/**
 * DITSERVE_HEALTH_HOST to an address: an IP as given, or `task` for this task's own address (its
 * first non-internal IPv4, which is only known at run time under awsvpc). Anything else is a
 * configuration error, found at start-up.
 */
export function healthAddress(
  setting: string,
  interfaces: Interfaces = networkInterfaces(),
): string {
  if (setting === 'task') {
    for (const list of Object.values(interfaces)) {
      const own = list?.find((i) => i.family === 'IPv4' && !i.internal);
      if (own) return own.address;
    }
    throw new ConfigError(
      'DITSERVE_HEALTH_HOST=task: this machine has no non-loopback IPv4 address',
    );
  }
  if (isIP(setting) === 0) {
    throw new ConfigError(`DITSERVE_HEALTH_HOST must be an IP address or "task", got "${setting}"`);
  }
  return setting;
}

function listenOn(listener: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(listener);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve(server);
    });
  });
}

/**
 * GET /healthz for the ECS container health check: 200 while the worker starts or works,
 * 503 once it drains or stopped, so ECS stops routing its attention (and replaces it if stuck).
 * It listens on loopback by default: the check runs inside the container, and nothing outside
 * needs to see the worker's state. On another address it answers on loopback as well, so the
 * container's check keeps working.
 */
export async function startHealthServer(
  port: number,
  state: () => WorkerState,
  host: string = LOOPBACK,
): Promise<HealthServer> {
  const listener: RequestListener = (req, res) => {
    const current = state();
    const healthy = current === 'starting' || current === 'ready' || current === 'busy';
    res.writeHead(req.url === '/healthz' ? (healthy ? 200 : 503) : 404, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ state: current }));
  };
  const server = await listenOn(listener, port, host);
  const bound = (server.address() as AddressInfo).port;
  const servers = [server];
  if (host !== LOOPBACK) servers.push(await listenOn(listener, bound, LOOPBACK));
  return {
    server,
    port: bound,
    addresses: servers.map((s) => (s.address() as AddressInfo).address),
    close() {
      for (const s of servers) s.close();
    },
  };
}
