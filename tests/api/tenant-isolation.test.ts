import { describe, expect, it } from 'vitest';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { completeJob, makeApi } from './harness.ts';
import { expectProblem, VALID } from './support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;
type State = 'queued' | 'running' | 'succeeded' | 'canceled';

/** Alice's job in the given state. */
async function alicesJob(api: Api, state: State): Promise<string> {
  const response = await api.call(api.alice, 'POST', '/v1/generations', {
    ...VALID,
    webhook: { url: 'https://alice.example/hook' },
  });
  const { id } = (await response.json()) as GenerationView;
  if (state === 'succeeded') await completeJob(api.jobs, api.blobs, 'tenant-alice', id);
  if (state === 'canceled') await api.call(api.alice, 'POST', `/v1/generations/${id}/cancel`);
  if (state === 'running') {
    const job = await api.jobs.get('tenant-alice', id);
    await api.jobs.put(
      { ...job, status: 'running', version: job.version + 1, startedAt: new Date().toISOString() },
      job.version,
    );
  }
  return id;
}

/** Every route that takes a job id; a new per-job route must be added here. */
const PER_JOB_ROUTES: readonly (readonly [string, (id: string) => string])[] = [
  ['GET', (id) => `/v1/generations/${id}`],
  ['POST', (id) => `/v1/generations/${id}/cancel`],
  ['GET', (id) => `/v1/generations/${id}/events`],
  ['GET', (id) => `/v1/generations/${id}/webhook/deliveries`],
  ['POST', (id) => `/v1/generations/${id}/webhook/redeliver`],
];

describe('tenant isolation', () => {
  const states: readonly State[] = ['queued', 'running', 'succeeded', 'canceled'];

  for (const state of states) {
    for (const [method, path] of PER_JOB_ROUTES) {
      it(`bob gets 404 (not 403) for ${method} ${path(':id')} on alice's ${state} job`, async () => {
        const api = await makeApi();
        const id = await alicesJob(api, state);
        const before = await api.jobs.get('tenant-alice', id);
        const body = await expectProblem(
          await api.call(api.bob, method, path(id)),
          404,
          'job_not_found',
        );
        // The answer is the one for an id that never existed: nothing about alice leaks.
        const never = await expectProblem(
          await api.call(api.bob, method, path('gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B')),
          404,
          'job_not_found',
        );
        expect(body.detail.replace(id, 'ID')).toBe(
          never.detail.replace('gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B', 'ID'),
        );
        expect(JSON.stringify(body)).not.toMatch(/alice/);
        // And nothing changed: bob's cancel did not touch the job, nor send a webhook event.
        expect(await api.jobs.get('tenant-alice', id)).toEqual(before);
        // Alice herself still reaches it.
        expect((await api.call(api.alice, 'GET', `/v1/generations/${id}`)).status).toBe(200);
      });
    }
  }

  it('covers every per-job route the app has', async () => {
    const api = await makeApi();
    const implemented = [
      ...new Set(
        api.app.routes
          .filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/generations/:id'))
          .map((r) => `${r.method} ${r.path}`),
      ),
    ].sort();
    const tested = PER_JOB_ROUTES.map(([m, p]) => `${m} ${p(':id')}`).sort();
    expect(implemented).toEqual(tested);
  });

  it('bob cannot cancel alice’s queued job, and no webhook event is sent for it', async () => {
    const api = await makeApi();
    const id = await alicesJob(api, 'queued');
    await expectProblem(
      await api.call(api.bob, 'POST', `/v1/generations/${id}/cancel`),
      404,
      'job_not_found',
    );
    expect(await api.outbox.receive({ maxMessages: 10 })).toHaveLength(0);
    const view = (await (
      await api.call(api.alice, 'GET', `/v1/generations/${id}`)
    ).json()) as GenerationView;
    expect(view.status).toBe('queued');
  });

  it('lists only the caller’s own jobs, whatever the filter or cursor', async () => {
    const api = await makeApi();
    const alices = [
      await alicesJob(api, 'queued'),
      await alicesJob(api, 'succeeded'),
      await alicesJob(api, 'canceled'),
    ];
    const bobs = (await (
      await api.call(api.bob, 'POST', '/v1/generations', VALID)
    ).json()) as GenerationView;

    const list = async (key: string, query = '') =>
      (await (await api.call(key, 'GET', `/v1/generations${query}`)).json()) as {
        data: GenerationView[];
        next_cursor?: string;
      };
    expect((await list(api.bob)).data.map((g) => g.id)).toEqual([bobs.id]);
    for (const status of ['queued', 'succeeded', 'canceled', 'running']) {
      const ids = (await list(api.bob, `?status=${status}`)).data.map((g) => g.id);
      expect(ids.every((id) => id === bobs.id)).toBe(true);
    }
    // A cursor taken from alice's listing does not open alice's jobs to bob.
    const page = await list(api.alice, '?limit=1');
    expect(page.next_cursor).toBeDefined();
    const viaCursor = await list(api.bob, `?cursor=${encodeURIComponent(page.next_cursor ?? '')}`);
    expect(viaCursor.data.every((g) => g.id === bobs.id)).toBe(true);
    expect((await list(api.alice)).data.map((g) => g.id).sort()).toEqual([...alices].sort());
  });

  it('queue positions do not reveal other tenants’ queued jobs', async () => {
    const api = await makeApi();
    await alicesJob(api, 'queued');
    await alicesJob(api, 'queued');
    const created = (await (
      await api.call(api.bob, 'POST', '/v1/generations', VALID)
    ).json()) as GenerationView;
    const bobs = (await (
      await api.call(api.bob, 'GET', `/v1/generations/${created.id}`)
    ).json()) as GenerationView;
    expect(bobs.queue_position).toBe(1);
  });

  it('each tenant has its own webhook signing secret, and rotating one leaves the other', async () => {
    const api = await makeApi();
    const secret = async (key: string) =>
      ((await (await api.call(key, 'GET', '/v1/webhooks/secret')).json()) as { secret: string })
        .secret;
    const alices = await secret(api.alice);
    const bobs = await secret(api.bob);
    expect(alices).toMatch(/^whsec_/);
    expect(bobs).not.toBe(alices);
    const rotated = await api.call(api.bob, 'POST', '/v1/webhooks/secret/rotate');
    expect(rotated.status).toBe(200);
    expect(await secret(api.alice)).toBe(alices);
    expect(await secret(api.bob)).not.toBe(bobs);
  });

  it('an idempotency key of alice’s never replays her job to bob', async () => {
    const api = await makeApi();
    const headers = { 'idempotency-key': 'same-key' };
    const a = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID, headers)
    ).json()) as GenerationView;
    const b = await api.call(api.bob, 'POST', '/v1/generations', VALID, headers);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(((await b.json()) as GenerationView).id).not.toBe(a.id);
  });
});
