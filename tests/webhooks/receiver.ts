import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll } from 'vitest';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver does with the next request; `hang` never answers. */
export type Reply = { readonly status: number; readonly headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP webhook receiver on 127.0.0.1 that answers from a script of replies (the last one
 * repeats) and records every request, closed after the test file.
 */
export async function startReceiver(...replies: Reply[]): Promise<{
  readonly url: string;
  readonly received: Received[];
  script(...next: Reply[]): void;
}> {
  const received: Received[] = [];
  let queue = [...replies];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const reply = (queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 200 };
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(reply.status, reply.headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    script(...next) {
      queue = [...next];
    },
  };
}
