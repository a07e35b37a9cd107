/**
 * SSRF: no webhook, in any keyed mode, ever reaches a listener on this machine or in a private,
 * link-local or metadata range. A real listener on every local address counts TCP connections;
 * it must count zero. Checked at both gates: submit (422 webhook_url_refused) and delivery (the
 * dispatcher refuses an event put straight into the outbox, as a record written before a policy
 * change would be, and logs it `refused`). Names that resolve to refused addresses, a DNS answer
 * that changes between check and connect, and redirects go through the dispatcher with a
 * resolver stub.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsDeliveryLog } from '../../core/adapters/local/fs-delivery-log.ts';
import { MemoryDeliveryLog } from '../../core/adapters/memory/memory-delivery-log.ts';
import { MemoryKeyStore } from '../../core/adapters/memory/memory-key-store.ts';
import type { WebhookEventMessage } from '../../core/generation.ts';
import { buildWebhookEvent } from '../../core/webhooks/events.ts';
import { generateWebhookSecret } from '../../core/webhooks/sign.ts';
import { createWebhookHandler } from '../../functions/webhook-dispatcher/handler.ts';
import { systemResolver, type Resolver } from '../../functions/webhook-dispatcher/ssrf.ts';
import { webhookPolicyFromEnv, type WebhookUrlPolicy } from '../../core/webhooks/url-policy.ts';
import { startWebhookReceiver } from '../e2e/webhook-receiver.ts';
import { cleanupAll } from '../reliability/processes.ts';
import { RecordingOutbox } from '../webhooks/harness.ts';
import { makeJob } from '../webhooks/fixtures.ts';
import { KEYED_MODES, startKeyedInProcess, type KeyedStack } from './keyed-stacks.ts';
import { startCountingListener, type CountingListener } from './listener.ts';
import { loopbackUrls, PRIVATE_URLS, REFUSED_ANSWERS } from './ssrf-targets.ts';

let listener: CountingListener;
beforeAll(async () => {
  listener = await startCountingListener();
});
afterAll(async () => {
  await listener.close();
  await cleanupAll();
});

/**
 * The AWS dispatcher as functions/webhook-dispatcher/lambda.ts composes it (the policy from an
 * environment without DITSERVE_WEBHOOK_ALLOW_HOSTS: strict) over memory adapters, with
 * `resolver` for DNS; another `policy` only where a test needs a receiver on this machine.
 */
async function openDispatcher(resolver: Resolver, policy: WebhookUrlPolicy | undefined) {
  const keys = new MemoryKeyStore();
  await keys.putWebhookSecrets('acme', [
    { secret: generateWebhookSecret(), createdAt: '2025-01-01T00:00:00Z' },
  ]);
  const log = new MemoryDeliveryLog();
  const handler = createWebhookHandler({
    keys,
    log,
    outbox: new RecordingOutbox(),
    resolver,
    timeoutMs: 2000,
    policy: policy ?? webhookPolicyFromEnv({}),
  });
  const deliver = async (url: string, jobId: string) => {
    const event = eventTo(url, 'acme', jobId);
    const result = await handler({
      Records: [{ messageId: jobId, body: JSON.stringify(event) }],
    } as Parameters<typeof handler>[0]);
    expect(result.batchItemFailures).toEqual([]);
    return log.list('acme', jobId);
  };
  return { deliver };
}

function eventTo(url: string, tenant: string, jobId: string): WebhookEventMessage {
  const job = { ...makeJob('succeeded', { url }), tenant, id: jobId };
  const event = buildWebhookEvent(job, 'generation.succeeded');
  if (!event) throw new Error('the fixture job wants its succeeded event');
  return event;
}

describe.each(KEYED_MODES)('$name', ({ start }) => {
  let stack: KeyedStack;
  beforeAll(async () => {
    stack = await start();
  }, 90_000);
  afterAll(() => stack.stop());

  /**
   * A submit by the next tenant in turn, waiting out its rate limit (429 + Retry-After) should
   * it meet it.
   */
  let turn = 0;
  const submit = async (url: string): Promise<Response> => {
    const keys = [stack.key, ...stack.moreKeys];
    for (;;) {
      const key = keys[turn++ % keys.length] ?? stack.key;
      const response = await fetch(`${stack.url}/v1/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a red circle', webhook: { url } }),
      });
      if (response.status !== 429) return response;
      await response.body?.cancel();
      await sleep(Number(response.headers.get('retry-after')) * 1000);
    }
  };

  it('refuses every loopback, private and metadata webhook URL at submit time', async () => {
    const urls = [...loopbackUrls(listener.port), ...PRIVATE_URLS];
    const before = listener.connections();
    const accepted: string[] = [];
    for (const url of urls) {
      const response = await submit(url);
      const body = (await response.json()) as { code?: string; errors?: { field: string }[] };
      // Schemes other than http(s) already fail the schema (invalid_request on webhook.url).
      const code = /^https?:/.test(url) ? 'webhook_url_refused' : 'invalid_request';
      if (response.status !== 422 || body.code !== code) {
        accepted.push(`${url} → ${response.status} ${body.code ?? ''}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(listener.connections() - before).toBe(0);
  }, 60_000);

  it('its dispatcher refuses the same URLs when they reach the outbox, and connects to none', async () => {
    // The tenant's signing secret exists once the API was asked for it (as before any webhook).
    const secret = await fetch(`${stack.url}/v1/webhooks/secret`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    expect(secret.status).toBe(200);
    const urls = loopbackUrls(listener.port);
    const before = listener.connections();
    const events = urls.map((url, i) => eventTo(url, stack.tenant, `gen_ssrf${String(i)}`));
    for (const event of events) await stack.outbox.send(event);
    const log = new FsDeliveryLog(stack.dataDir);
    const outcomes = async () =>
      Promise.all(
        events.map(async (e) => ({ url: e.url, attempts: await log.list(e.tenant, e.jobId) })),
      );
    // Bounded by the dispatcher's long poll (5 s in serve) and one pass over the events.
    const deadline = Date.now() + 40_000;
    let seen = await outcomes();
    while (seen.some((s) => s.attempts.length === 0) && Date.now() < deadline) {
      await sleep(200);
      seen = await outcomes();
    }
    const notRefused = seen
      .filter((s) => s.attempts.map((a) => a.outcome).join() !== 'refused')
      .map((s) => `${s.url}: ${s.attempts.map((a) => `${a.outcome} ${a.error ?? ''}`).join('; ')}`);
    expect(notRefused).toEqual([]);
    expect(listener.connections() - before).toBe(0);
  }, 60_000);
});

describe('the AWS dispatcher (lambda.ts composition, no allow-list)', () => {
  const dispatcherWith = (resolver: Resolver) => openDispatcher(resolver, undefined);

  it.each(REFUSED_ANSWERS.map((answers) => [answers.join(' + '), answers] as const))(
    'refuses a public-looking name resolving to %s, connecting nowhere',
    async (_, answers) => {
      const calls: string[] = [];
      const { deliver } = await dispatcherWith((host) => {
        calls.push(host);
        return Promise.resolve(
          answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
        );
      });
      const before = listener.connections();
      const [attempt, ...more] = await deliver(
        `https://hooks.example.com:${listener.port}/ditserve`,
        'gen_dns1',
      );
      expect(more).toEqual([]);
      expect(attempt?.outcome).toBe('refused');
      expect(attempt?.error).toMatch(/resolves to/);
      expect(calls).toEqual(['hooks.example.com']);
      expect(listener.connections() - before).toBe(0);
    },
  );
});

describe('DNS pinning and redirects (the dispatcher, local receivers allowed)', () => {
  // With loopback allowed (the open local mode), a receiver on this machine can answer: what is
  // checked here is where the connection goes once a URL passed, and whether a redirect is
  // followed. The strict modes above never get this far.
  it('connects to the address it checked, not to a second, different DNS answer', async () => {
    const checked = await startWebhookReceiver({ status: 204 });
    const port = Number(new URL(checked.url).port);
    const rebound = await startCountingListener({ host: '::1', port });
    let calls = 0;
    const handler = await openDispatcher(
      () => {
        calls += 1;
        // First answer: where `checked` listens (127.0.0.1); every later one: `rebound` (::1,
        // the same port).
        return Promise.resolve([
          calls === 1 ? { address: '127.0.0.1', family: 4 } : { address: '::1', family: 6 },
        ]);
      },
      { allowLoopbackHttp: true },
    );
    const attempts = await handler.deliver(`http://rebind.localhost:${port}/ditserve`, 'gen_pin');
    expect(attempts.map((a) => a.outcome)).toEqual(['delivered']);
    expect(checked.received).toHaveLength(1);
    expect(checked.received[0]?.headers.host).toBe(`rebind.localhost:${port}`);
    expect(calls).toBe(1);
    expect(rebound.connections()).toBe(0);
    await checked.close();
    await rebound.close();
  });

  it.each([301, 302, 303, 307, 308])('does not follow a %i to this machine', async (status) => {
    const target = `http://127.0.0.1:${listener.port}/internal`;
    const receiver = await startWebhookReceiver({ status, headers: { location: target } });
    const before = listener.connections();
    const handler = await openDispatcher(systemResolver, { allowLoopbackHttp: true });
    const attempts = await handler.deliver(receiver.url, `gen_redirect${String(status)}`);
    expect(attempts.map((a) => [a.outcome, a.statusCode, a.error])).toEqual([
      ['retry', status, 'redirect not followed'],
    ]);
    expect(receiver.received).toHaveLength(1);
    expect(listener.connections() - before).toBe(0);
    await receiver.close();
  });
});

describe('an explicit allow-list is the one way to a receiver on this machine in a keyed mode', () => {
  let stack: KeyedStack;
  beforeAll(async () => {
    stack = await startKeyedInProcess({
      host: '127.0.0.1',
      requireKeys: true,
      webhookAllowHosts: '127.0.0.1',
    });
  });
  afterAll(() => stack.stop());

  it('delivers to the listed address only; every other spelling of this machine stays refused', async () => {
    const post = (url: string) =>
      fetch(`${stack.url}/v1/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a red circle', webhook: { url } }),
      });
    const listed = `http://127.0.0.1:${listener.port}/hooks/ditserve`;
    const others = [
      `http://localhost:${listener.port}/hooks/ditserve`,
      `http://[::1]:${listener.port}/hooks/ditserve`,
      `http://127.0.0.2:${listener.port}/hooks/ditserve`,
      `http://0.0.0.0:${listener.port}/hooks/ditserve`,
    ];
    expect((await post(listed)).status).toBe(202);
    for (const url of others) {
      const r = await post(url);
      expect([url, r.status, ((await r.json()) as { code: string }).code]).toEqual([
        url,
        422,
        'webhook_url_refused',
      ]);
    }
    // The listed one reaches the listener through the dispatcher (an event handed to it).
    await fetch(`${stack.url}/v1/webhooks/secret`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });
    const before = listener.requests.length;
    await stack.outbox.send(eventTo(listed, stack.tenant, 'gen_allowlisted'));
    const deadline = Date.now() + 20_000;
    while (listener.requests.length === before && Date.now() < deadline) await sleep(100);
    expect(listener.requests.slice(before)).toEqual(['POST /hooks/ditserve']);
  }, 60_000);
});
