/**
 * A webhook receiver on plain `node:http`:
 * read the raw body, verify, deduplicate by `webhook-id`, answer 2xx quickly.
 *
 *   npx tsx examples/webhook-receiver-node.ts
 *
 * Self-contained like webhook-receiver-hono.ts: it submits a generation with itself as the
 * webhook and exits after the terminal event. The Express version: webhook-receiver-express.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ditserve } from 'ditserve/client';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from 'ditserve/webhooks';

const client = new Ditserve({
  baseUrl: process.env.DITSERVE_BASE_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.DITSERVE_API_KEY,
});
const secrets = process.env.DITSERVE_WEBHOOK_SECRET?.split(',') ?? [
  (await client.webhookSecret()).secret,
];

const handled = new Set<string>();
let finished: (event: WebhookEvent) => void = () => undefined;
const terminal = new Promise<WebhookEvent>((resolve) => (finished = resolve));

const server = createServer((req, res) => {
  const chunks: Uint8Array[] = [];
  req.on('data', (chunk: Uint8Array) => chunks.push(chunk));
  req.on('end', () => {
    verifyWebhook(Buffer.concat(chunks), req.headers, secrets).then(
      (event) => {
        const id = String(req.headers['webhook-id']);
        if (!handled.has(id)) {
          handled.add(id);
          console.log(`${event.type} ${event.data.id} ${event.data.status}`);
          if (event.type !== 'generation.started' && event.type !== 'generation.progress') {
            finished(event);
          }
        }
        res.writeHead(204).end();
      },
      (error: unknown) => {
        const reason = error instanceof WebhookVerificationError ? error.reason : 'error';
        res.writeHead(error instanceof WebhookVerificationError ? 400 : 500).end(reason);
      },
    );
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const generation = await client.submit({
  prompt: 'two blue squares',
  webhook: { url: `http://127.0.0.1:${port}/hooks/ditserve` },
});
console.log(`submitted ${generation.id}`);
const event = await terminal;
console.log(`done ${event.data.id} ${event.type}`);
server.close();
