import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerState } from './state.ts';

/**
 * GET /healthz for the ECS container health check: 200 while the worker starts or works,
 * 503 once it drains or stopped, so ECS stops routing its attention (and replaces it if stuck).
 */
export async function startHealthServer(
  port: number,
  state: () => WorkerState,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const current = state();
    const healthy = current === 'starting' || current === 'ready' || current === 'busy';
    res.writeHead(req.url === '/healthz' ? (healthy ? 200 : 503) : 404, {
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ state: current }));
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
