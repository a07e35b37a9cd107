/**
 * A webhook receiver in Express: `express.raw()` keeps the body as the bytes that were signed
 * (a JSON parser would re-serialize it and break the signature), then verify, deduplicate by
 * `webhook-id`, answer 2xx quickly.
 *
 *   npx tsx examples/webhook-receiver-express.ts
 *
 * Self-contained like webhook-receiver-hono.ts: it submits a generation with itself as the
 * webhook and exits after the terminal event.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
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

const app = express();
app.post('/hooks/ditserve', express.raw({ type: 'application/json' }), (req, res) => {
  verifyWebhook(req.body as Buffer, req.headers, secrets).then(
    (event) => {
      const id = String(req.headers['webhook-id']);
      if (!handled.has(id)) {
        handled.add(id);
        console.log(`${event.type} ${event.data.id} ${event.data.status}`);
        if (event.type !== 'generation.started' && event.type !== 'generation.progress') {
          finished(event);
        }
      }
      res.sendStatus(204);
    },
    (error: unknown) => {
      const bad = error instanceof WebhookVerificationError;
      res.status(bad ? 400 : 500).send(bad ? error.reason : 'error');
    },
  );
});

const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

const generation = await client.submit({
  prompt: 'two blue squares',
  webhook: { url: `http://127.0.0.1:${port}/hooks/ditserve` },
});
console.log(`submitted ${generation.id}`);
const event = await terminal;
console.log(`done ${event.data.id} ${event.type}`);
server.close();
