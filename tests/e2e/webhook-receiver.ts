import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { atFileEnd } from '../helpers/file-cleanup.ts';

/** One request the receiver got. */
export interface ReceivedHook {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the receiver does with the next request; `hang` never answers. */
export type Reply = { readonly status: number; readonly headers?: Record<string, string> } | 'hang';

export interface WebhookReceiver {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly received: ReceivedHook[];
  /** Replaces the script of replies. */
  script(...next: Reply[]): void;
  /** Closes the server, dropping any hanging requests. */
  close(): Promise<void>;
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 that records every request and answers from a script
 * of replies (the last one repeats; none: 204). The caller closes it.
 */
export async function startWebhookReceiver(...replies: Reply[]): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  let queue: Reply[] = replies.length > 0 ? [...replies] : [{ status: 204 }];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const reply = (queue.length > 1 ? queue.shift() : queue[0]) ?? { status: 204 };
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(reply.status, reply.headers).end(reply.status === 204 ? undefined : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/ditserve`,
    received,
    script(...next) {
      queue = [...next];
    },
    close: () => {
      for (const res of hanging.splice(0)) res.destroy();
      return new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

/** startWebhookReceiver, closed after the test file (for the webhook unit tests). */
export async function startReceiver(...replies: Reply[]): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver(...replies);
  atFileEnd(() => receiver.close());
  return receiver;
}
