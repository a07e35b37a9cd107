import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { dispatchEvent, type OutboxEvent } from '../../functions/webhook-dispatcher/dispatch.ts';
import { postPinned } from '../../functions/webhook-dispatcher/http-post.ts';
import { dispatchHarness, succeededEvent } from './harness.ts';
import { startReceiver } from '../e2e/webhook-receiver.ts';

describe('delivering one event to a real HTTP receiver', () => {
  it('POSTs the signed body once and records a delivered attempt on 2xx', async () => {
    const receiver = await startReceiver({ status: 204 });
    const h = await dispatchHarness();
    const event = succeededEvent(receiver.url);

    const result = await dispatchEvent(event, h.deps);

    expect(result.outcome).toBe('delivered');
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request?.headers['content-type']).toBe('application/json');
    const verified = new Webhook(h.secret).verify(request?.body ?? '', {
      'webhook-id': String(request?.headers['webhook-id']),
      'webhook-timestamp': String(request?.headers['webhook-timestamp']),
      'webhook-signature': String(request?.headers['webhook-signature']),
    });
    expect(verified).toMatchObject({ type: 'generation.succeeded', data: { id: 'gen_test1' } });
    expect(h.outbox.sent).toEqual([]);
    expect(await h.log.list('acme', 'gen_test1')).toEqual([
      expect.objectContaining({
        webhookId: event.id,
        attempt: 1,
        outcome: 'delivered',
        statusCode: 204,
      }),
    ]);
  });

  it('schedules a retry with jittered backoff on 500, and retries with the same webhook-id', async () => {
    const receiver = await startReceiver({ status: 500 }, { status: 500 }, { status: 200 });
    const h = await dispatchHarness();
    const event = succeededEvent(receiver.url);

    const first = await dispatchEvent(event, h.deps);
    // random 0.5 of the first cap (5 s) → 3 s.
    expect(first).toMatchObject({ outcome: 'retry', attempt: { statusCode: 500, attempt: 1 } });
    expect(h.outbox.sent).toEqual([
      { body: expect.objectContaining({ id: event.id, attempt: 1 }) as unknown, delaySeconds: 3 },
    ]);

    h.advance(3);
    const second = await dispatchEvent(h.outbox.sent[0]?.body ?? event, h.deps);
    // Second cap is 30 s → 15 s.
    expect(second).toMatchObject({ outcome: 'retry', attempt: { attempt: 2 } });
    expect(h.outbox.sent[1]?.delaySeconds).toBe(15);

    h.advance(15);
    const third = await dispatchEvent(h.outbox.sent[1]?.body ?? event, h.deps);
    expect(third).toMatchObject({ outcome: 'delivered', attempt: { attempt: 3 } });

    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids).toEqual([event.id, event.id, event.id]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    const log = await h.log.list('acme', 'gen_test1');
    expect(log.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'retry'],
      [2, 'retry'],
      [3, 'delivered'],
    ]);
    expect(log[0]?.nextRetryAt).toBe(new Date(Date.parse(log[0]?.at ?? '') + 3000).toISOString());
  });

  it('honours Retry-After on 429 (seconds) and 503 (HTTP date)', async () => {
    const receiver = await startReceiver({ status: 429, headers: { 'retry-after': '120' } });
    const h = await dispatchHarness();
    await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(h.outbox.sent[0]?.delaySeconds).toBe(120);

    const at = new Date(Date.now() + 300_000).toUTCString();
    receiver.script({ status: 503, headers: { 'retry-after': at } });
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result.outcome).toBe('retry');
    expect(h.outbox.sent[1]?.delaySeconds).toBeGreaterThanOrEqual(298);
    expect(h.outbox.sent[1]?.delaySeconds).toBeLessThanOrEqual(301);
  });

  it('chains re-sends for waits longer than SQS allows (900 s), attempting only when due', async () => {
    const receiver = await startReceiver({ status: 429, headers: { 'retry-after': '2000' } });
    const h = await dispatchHarness();
    await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(h.outbox.sent[0]?.delaySeconds).toBe(900);

    h.advance(900);
    const early = await dispatchEvent(h.outbox.sent[0]?.body ?? succeededEvent(''), h.deps);
    expect(early).toEqual({ outcome: 'deferred', delaySeconds: 900 });
    h.advance(900);
    const later = await dispatchEvent(h.outbox.sent[1]?.body ?? succeededEvent(''), h.deps);
    expect(later).toEqual({ outcome: 'deferred', delaySeconds: 200 });
    expect(receiver.received).toHaveLength(1);

    receiver.script({ status: 200 });
    h.advance(200);
    const due = await dispatchEvent(h.outbox.sent[2]?.body ?? succeededEvent(''), h.deps);
    expect(due).toMatchObject({ outcome: 'delivered', attempt: { attempt: 2 } });
  });

  it('stops on 410 Gone and records it', async () => {
    const receiver = await startReceiver({ status: 410 });
    const h = await dispatchHarness();
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result).toMatchObject({ outcome: 'gone', attempt: { statusCode: 410 } });
    expect(h.outbox.sent).toEqual([]);
  });

  it('does not follow a 301, and counts it as a failed attempt', async () => {
    const receiver = await startReceiver({ status: 301, headers: { location: '/elsewhere' } });
    const h = await dispatchHarness();
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result).toMatchObject({
      outcome: 'retry',
      attempt: { statusCode: 301, error: 'redirect not followed' },
    });
    expect(receiver.received.map((r) => r.path)).toEqual([new URL(receiver.url).pathname]);
  });

  it('gives up on a receiver that does not answer within the timeout, and retries', async () => {
    const receiver = await startReceiver('hang');
    const h = await dispatchHarness({ timeoutMs: 200 });
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result).toMatchObject({
      outcome: 'retry',
      attempt: { error: expect.stringMatching(/timed out after 200 ms/) as unknown },
    });
    expect(result.outcome !== 'deferred' && result.attempt.durationMs).toBeLessThan(1500);
  });

  it('gives up once the first attempt is more than 24 h old', async () => {
    const receiver = await startReceiver({ status: 500 });
    const h = await dispatchHarness();
    const firstAttemptAt = new Date(Date.now() - 24 * 3600 * 1000 - 1000).toISOString();
    const event: OutboxEvent = { ...succeededEvent(receiver.url), attempt: 12, firstAttemptAt };
    const result = await dispatchEvent(event, h.deps);
    expect(result).toMatchObject({
      outcome: 'exhausted',
      attempt: { attempt: 13, statusCode: 500 },
    });
    expect(h.outbox.sent).toEqual([]);
  });

  it('refuses loopback delivery unless allowed, without sending anything', async () => {
    const receiver = await startReceiver({ status: 200 });
    const h = await dispatchHarness({ policy: {} });
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result).toMatchObject({
      outcome: 'refused',
      attempt: { error: expect.stringMatching(/https/) as unknown },
    });
    expect(receiver.received).toEqual([]);
    expect(h.outbox.sent).toEqual([]);
  });

  it('retries (without POSTing) while the tenant has no active signing secret', async () => {
    const receiver = await startReceiver({ status: 200 });
    const h = await dispatchHarness();
    await h.keys.putWebhookSecrets('acme', []);
    const result = await dispatchEvent(succeededEvent(receiver.url), h.deps);
    expect(result).toMatchObject({
      outcome: 'retry',
      attempt: { error: expect.stringMatching(/no webhook secret/) as unknown },
    });
    expect(receiver.received).toEqual([]);
  });

  it('connects to the pinned address, keeping the URL hostname as Host', async () => {
    const receiver = await startReceiver({ status: 202 });
    const port = new URL(receiver.url).port;
    // `.invalid` never resolves (RFC 6761): reaching the receiver proves DNS was not asked.
    const target = {
      url: new URL(`http://webhook.invalid:${port}/hook`),
      address: '127.0.0.1',
      family: 4 as const,
    };
    const res = await postPinned(target, { 'webhook-id': 'msg_pin' }, '{}', 2000);
    expect(res.statusCode).toBe(202);
    expect(receiver.received[0]?.headers.host).toBe(`webhook.invalid:${port}`);
  });

  it('delivers to a loopback name through the injected resolver in local mode', async () => {
    const receiver = await startReceiver({ status: 200 });
    const port = new URL(receiver.url).port;
    const h = await dispatchHarness({
      resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
    });
    const result = await dispatchEvent(succeededEvent(`http://localhost:${port}/hook`), h.deps);
    expect(result.outcome).toBe('delivered');
    expect(receiver.received[0]?.headers.host).toBe(`localhost:${port}`);
  });
});
