import { describe, expect, it } from 'vitest';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { completeJob, makeApi } from './harness.ts';
import { expectProblem, VALID } from './support.ts';

const key = (k: string) => ({ 'idempotency-key': k });

describe('Idempotency-Key', () => {
  it('replays the same job for the same key and body, with idempotent-replayed', async () => {
    const api = await makeApi();
    const first = await api.call(
      api.alice,
      'POST',
      '/v1/generations',
      { prompt: VALID.prompt, steps: 9 },
      key('k-1'),
    );
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const a = (await first.json()) as GenerationView;
    // Key order and whitespace do not make a different body.
    const replay = await api.call(
      api.alice,
      'POST',
      '/v1/generations',
      `{ "steps": 9,  "prompt": ${JSON.stringify(VALID.prompt)} }`,
      key('k-1'),
    );
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const b = (await replay.json()) as GenerationView;
    expect(b.id).toBe(a.id);
    expect(b.input.seed).toBe(a.input.seed);
    // Still queued, so the replay sent its message again: the first request may have died
    // before sending it. Every message names the one job (a duplicate is dropped by the claim).
    const ids = (await api.queue.receive({ maxMessages: 10 })).map((m) => m.body.jobId);
    expect(ids).toEqual([a.id, a.id]);
  });

  it('sends the message of a stored job whose first request died before enqueueing it', async () => {
    let sends = 0;
    const base = await makeApi();
    const api = await makeApi({
      jobs: base.jobs,
      queue: {
        ...base.deps.queue,
        send: (body, o) =>
          sends++ === 0 ? Promise.reject(new Error('connection reset')) : base.queue.send(body, o),
        receive: (o) => base.queue.receive(o),
        extend: (r, n) => base.queue.extend(r, n),
        release: (r) => base.queue.release(r),
        delete: (r) => base.queue.delete(r),
        depth: () => base.queue.depth(),
        ping: () => base.queue.ping(),
      },
    });
    const first = await api.call(api.alice, 'POST', '/v1/generations', VALID, key('k-lost'));
    expect(first.status).toBe(503);
    // With a key the job stays queued (not failed), so the client's retry picks it up.
    const retry = await api.call(api.alice, 'POST', '/v1/generations', VALID, key('k-lost'));
    expect(retry.status).toBe(202);
    const job = (await retry.json()) as GenerationView;
    expect(job.status).toBe('queued');
    const ids = (await base.queue.receive({ maxMessages: 10 })).map((m) => m.body.jobId);
    expect(ids).toEqual([job.id]);
  });

  it('answers a replay of a finished job with 200 and the finished job', async () => {
    const api = await makeApi();
    const a = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID, key('done'))
    ).json()) as GenerationView;
    await completeJob(api.jobs, api.blobs, 'tenant-alice', a.id);
    const replay = await api.call(api.alice, 'POST', '/v1/generations', VALID, key('done'));
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as GenerationView).status).toBe('succeeded');
  });

  it('refuses the same key with a different body (409)', async () => {
    const api = await makeApi();
    await api.call(api.alice, 'POST', '/v1/generations', VALID, key('k-2'));
    await expectProblem(
      await api.call(api.alice, 'POST', '/v1/generations', { ...VALID, seed: 1 }, key('k-2')),
      409,
      'idempotency_conflict',
    );
  });

  it('keeps keys per tenant: the same key from another tenant is a new job', async () => {
    const api = await makeApi();
    const a = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID, key('shared'))
    ).json()) as GenerationView;
    const response = await api.call(api.bob, 'POST', '/v1/generations', VALID, key('shared'));
    expect(response.status).toBe(202);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    const b = (await response.json()) as GenerationView;
    expect(b.id).not.toBe(a.id);
    // A different body under bob's use of the key is no conflict with alice's.
    const c = await api.call(api.bob, 'POST', '/v1/generations', VALID, key('shared'));
    expect(((await c.json()) as GenerationView).id).toBe(b.id);
  });

  it('gives concurrent retries with one key one job, and never an error', async () => {
    const api = await makeApi();
    const responses = await Promise.all(
      Array.from({ length: 5 }, async () =>
        api.call(api.alice, 'POST', '/v1/generations', VALID, key('race')),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    const ids = new Set(
      await Promise.all(responses.map(async (r) => ((await r.json()) as GenerationView).id)),
    );
    expect(ids.size).toBe(1);
    const queued = await api.queue.receive({ maxMessages: 10 });
    expect(new Set(queued.map((m) => m.body.jobId))).toEqual(ids);
  });
});

describe('Prefer: wait=N', () => {
  it('answers 200 with the finished job when it completes within N seconds', async () => {
    const api = await makeApi();
    // The worker picks the job from the queue while the request is held.
    const worker = (async () => {
      for (;;) {
        const [message] = await api.queue.receive({ waitSeconds: 1 });
        if (!message) continue;
        await completeJob(api.jobs, api.blobs, message.body.tenant, message.body.jobId);
        await api.queue.delete(message.receipt);
        return;
      }
    })();
    const response = await api.call(api.alice, 'POST', '/v1/generations', VALID, {
      prefer: 'wait=30',
    });
    await worker;
    expect(response.status).toBe(200);
    expect(response.headers.get('preference-applied')).toBe('wait=30');
    const body = (await response.json()) as GenerationView;
    expect(body.status).toBe('succeeded');
    expect(body.outputs).toHaveLength(1);
  });

  it('answers 202 with the job as it is when the wait runs out', async () => {
    const api = await makeApi({ limits: { maxWaitSeconds: 0 } });
    const response = await api.call(api.alice, 'POST', '/v1/generations', VALID, {
      prefer: 'respond-async, wait=30',
    });
    expect(response.status).toBe(202);
    // The deployment's cap is what was applied.
    expect(response.headers.get('preference-applied')).toBe('wait=0');
    expect(((await response.json()) as GenerationView).status).toBe('queued');
  });

  it('does not wait without the preference', async () => {
    const api = await makeApi();
    const response = await api.call(api.alice, 'POST', '/v1/generations', VALID);
    expect(response.status).toBe(202);
    expect(response.headers.get('preference-applied')).toBeNull();
  });
});
