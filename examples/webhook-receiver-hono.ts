/**
 * A webhook receiver on Hono: verify, deduplicate by `webhook-id`, answer 2xx quickly.
 *
 *   npx tsx examples/webhook-receiver-hono.ts
 *
 * To be self-contained it listens on 127.0.0.1, asks ditserve for the signing secret, submits a
 * generation with itself as the webhook and exits after the terminal event. A real receiver
 * reads the secret from DITSERVE_WEBHOOK_SECRET (comma-separated during a rotation) and only
 * keeps the route. The open local mode (loopback bind, no keys) delivers to 127.0.0.1.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Ditserve } from 'ditserve/client';
import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from 'ditserve/webhooks';

const client = new Ditserve({
  baseUrl: process.env.DITSERVE_BASE_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.DITSERVE_API_KEY,
});
const secrets = process.env.DITSERVE_WEBHOOK_SECRET?.split(',') ?? [
  (await client.webhookSecret()).secret,
];

// Deliveries are at least once: remember what you handled (a database table in production).
const handled = new Set<string>();
let finished: (event: WebhookEvent) => void = () => undefined;
const terminal = new Promise<WebhookEvent>((resolve) => (finished = resolve));

const app = new Hono();
app.post('/hooks/ditserve', async (c) => {
  // The raw body, exactly as sent: the signature covers these bytes, not a re-serialization.
  const body = await c.req.text();
  let event: WebhookEvent;
  try {
    event = await verifyWebhook(body, c.req.raw.headers, secrets);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return c.text(error.reason, 400);
    throw error;
  }
  const id = c.req.header('webhook-id') ?? '';
  if (handled.has(id)) return c.body(null, 204);
  handled.add(id);
  console.log(`${event.type} ${event.data.id} ${event.data.status}`);
  if (event.type !== 'generation.started' && event.type !== 'generation.progress') finished(event);
  return c.body(null, 204);
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

const generation = await client.submit({
  prompt: 'a yellow star',
  webhook: { url: `http://127.0.0.1:${port}/hooks/ditserve` },
});
console.log(`submitted ${generation.id}`);
const event = await terminal;
console.log(`done ${event.data.id} ${event.type}`);
server.close();
