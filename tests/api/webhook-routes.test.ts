import { describe, expect, it } from 'vitest';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { completeJob, makeApi } from './harness.ts';
import { expectProblem, VALID } from './support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;

async function create(api: Api, body: unknown) {
  const response = await api.call(api.alice, 'POST', '/v1/generations', body);
  return ((await response.json()) as GenerationView).id;
}

describe('webhook routes', () => {
  it('redelivers a finished generation’s terminal event with its original webhook-id', async () => {
    const api = await makeApi();
    const id = await create(api, { ...VALID, webhook: { url: 'https://example.com/hook' } });
    await completeJob(api.jobs, api.blobs, 'tenant-alice', id);
    const first = await api.call(api.alice, 'POST', `/v1/generations/${id}/webhook/redeliver`);
    expect(first.status).toBe(202);
    const answer = (await first.json()) as { webhook_id: string; type: string };
    expect(answer.type).toBe('generation.succeeded');
    const again = (await (
      await api.call(api.alice, 'POST', `/v1/generations/${id}/webhook/redeliver`)
    ).json()) as { webhook_id: string };
    expect(again.webhook_id).toBe(answer.webhook_id);
    const sent = await api.outbox.receive({ maxMessages: 10 });
    expect(sent.map((m) => m.body.id)).toEqual([answer.webhook_id, answer.webhook_id]);
    expect(sent[0]?.body.data).toMatchObject({ id, status: 'succeeded' });
  });

  it('409 job_not_terminal for an unfinished generation, webhook_not_configured without one', async () => {
    const api = await makeApi();
    const queued = await create(api, { ...VALID, webhook: { url: 'https://example.com/hook' } });
    await expectProblem(
      await api.call(api.alice, 'POST', `/v1/generations/${queued}/webhook/redeliver`),
      409,
      'job_not_terminal',
    );
    const plain = await create(api, VALID);
    await completeJob(api.jobs, api.blobs, 'tenant-alice', plain);
    await expectProblem(
      await api.call(api.alice, 'POST', `/v1/generations/${plain}/webhook/redeliver`),
      409,
      'webhook_not_configured',
    );
  });

  it('lists delivery attempts (none without a delivery log)', async () => {
    const api = await makeApi();
    const id = await create(api, VALID);
    const response = await api.call(api.alice, 'GET', `/v1/generations/${id}/webhook/deliveries`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ object: 'list', data: [] });
  });

  it('rotating the secret keeps the old one signing', async () => {
    const api = await makeApi();
    const before = (await (await api.call(api.alice, 'GET', '/v1/webhooks/secret')).json()) as {
      secret: string;
    };
    const after = (await (
      await api.call(api.alice, 'POST', '/v1/webhooks/secret/rotate')
    ).json()) as { secret: string; previous: string[] };
    expect(after.secret).not.toBe(before.secret);
    expect(after.previous).toEqual([before.secret]);
  });
});
