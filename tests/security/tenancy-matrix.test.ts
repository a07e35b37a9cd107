/**
 * Auth and tenancy as one table: every caller (the owner, another tenant, a revoked key, a
 * forged secret for a real key id, a malformed key, none) × every tenant route × the owner's
 * jobs in two states and an id that never existed, over the local folder adapters (real signed
 * file URLs). Then file URLs (forged, expired, re-pointed, traversal), revocation through the
 * 30 s key cache, and a grep of every log line the app wrote for keys and secrets.
 * tests/api/tenant-isolation.test.ts holds the per-state 404 checks this builds on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { signFile } from '../../core/adapters/local/file-signature.ts';
import { localBackend } from '../../core/backend/local.ts';
import type { Backend } from '../../core/backend/types.ts';
import type { GenerationData } from '../../core/generation.ts';
import { transition } from '../../core/job.ts';
import { jsonLogger } from '../../core/logger.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { createApp } from '../../functions/api/app.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { MODEL_DIR } from '../api/harness.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeTestVideoModel } from '../helpers/test-video-model.ts';
import { KEYS } from '../../core/storage-layout.ts';

const NEVER = 'gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B';

interface World {
  readonly app: ReturnType<typeof createApp>;
  readonly backend: Backend;
  readonly dataDir: string;
  readonly logs: string[];
  readonly keys: Record<Caller, string | undefined>;
  readonly secrets: string[];
  /** The owner's jobs in two states, per kind (the video routes act on video jobs). */
  readonly jobs: Record<JobKind, { queued: string; succeeded: string }>;
  call(caller: Caller, method: string, path: string, body?: unknown): Promise<Response>;
}

type Caller = 'owner' | 'other' | 'revoked' | 'forged' | 'malformed' | 'none';
type JobKind = 'image' | 'video';
const VIDEO_MODEL = 'test-video';

async function world(): Promise<World> {
  const dataDir = await tempDir('ditserve-tenancy-');
  const backend = await localBackend({ dataDir, publicUrl: 'http://127.0.0.1:8080' });
  const logs: string[] = [];
  const alice = await issueApiKey(backend.keys, 'tenant-alice', 'alice');
  const bob = await issueApiKey(backend.keys, 'tenant-bob', 'bob');
  const revoked = await issueApiKey(backend.keys, 'tenant-alice', 'alice, revoked');
  await backend.keys.revokeKey(revoked.record.id, new Date());
  const keys: Record<Caller, string | undefined> = {
    owner: alice.key,
    other: bob.key,
    revoked: revoked.key,
    // A real key id with a secret that is not its own.
    forged: `dsk_${alice.record.id}_${'x'.repeat(43)}`,
    malformed: alice.key.replace('dsk_', 'dsk-'),
    none: undefined,
  };
  const app = createApp({
    ...backend,
    models: await loadModelCatalog([
      MODEL_DIR,
      await writeTestVideoModel(join(dataDir, 'video-model')),
    ]),
    auth: { kind: 'keys' },
    logger: jsonLogger('tenancy', (line) => logs.push(line)),
    files: backend.verifyFile && { verify: backend.verifyFile },
    pollIntervalMs: 10,
    limits: { requestsPerSecond: 1e6, burst: 1e6, maxStreamSeconds: 1 },
  });
  const call = async (caller: Caller, method: string, path: string, body?: unknown) => {
    const key = keys[caller];
    return await app.request(path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
  const submit = async (extra: Record<string, unknown> = {}) =>
    (
      (await (
        await call('owner', 'POST', '/v1/generations', {
          prompt: 'a red circle',
          webhook: { url: 'https://alice.example/hook' },
          ...extra,
        })
      ).json()) as GenerationView
    ).id;
  // The worker's part, on the store: run the job and store its output (a clip's three files).
  const complete = async (id: string) => {
    const job = await backend.jobs.get<GenerationData>('tenant-alice', id);
    const running = transition(job, 'running', new Date());
    await backend.jobs.put(running, job.version);
    const p = running.data.params;
    const file = async (key: string, contentType: string) => {
      await backend.blobs.put(key, new Uint8Array([137, 80, 78, 71]), contentType);
      return { key, contentType, bytes: 4 };
    };
    const main =
      p.modality === 'video'
        ? await file(KEYS.videoOutput('tenant-alice', id, 0, 'mp4'), 'video/mp4')
        : await file(KEYS.output('tenant-alice', id, 0, 'png'), 'image/png');
    const video =
      p.modality === 'video'
        ? {
            frames: p.frames,
            fps: p.fps,
            durationSeconds: p.frames / p.fps,
            mp4: main,
            webp: await file(KEYS.videoOutput('tenant-alice', id, 0, 'webp'), 'image/webp'),
            thumbnail: await file(
              KEYS.videoOutput('tenant-alice', id, 0, 'thumbnail'),
              'image/png',
            ),
          }
        : undefined;
    const done = transition(running, 'succeeded', new Date());
    await backend.jobs.put(
      {
        ...done,
        data: {
          ...done.data,
          outputs: [{ ...main, index: 0, seed: 1, width: p.width, height: p.height, video }],
        },
      },
      running.version,
    );
  };
  const jobs = {
    image: { queued: await submit(), succeeded: await submit() },
    video: {
      queued: await submit({ model: VIDEO_MODEL }),
      succeeded: await submit({ model: VIDEO_MODEL }),
    },
  };
  await complete(jobs.image.succeeded);
  await complete(jobs.video.succeeded);
  const secrets = [
    alice.key,
    bob.key,
    revoked.key,
    (await readFile(join(dataDir, 'file-signing.key'), 'utf8')).trim(),
  ];
  return { app, backend, dataDir, logs, keys, secrets, jobs, call };
}

/** Routes that act on one job, and the kind of job they act on; the table's rows. DELETE comes
 * last: the owner's call deletes the video. */
const PER_JOB: readonly (readonly [string, (id: string) => string, JobKind])[] = [
  ['GET', (id) => `/v1/generations/${id}`, 'image'],
  ['POST', (id) => `/v1/generations/${id}/cancel`, 'image'],
  ['GET', (id) => `/v1/generations/${id}/events`, 'image'],
  ['GET', (id) => `/v1/generations/${id}/webhook/deliveries`, 'image'],
  ['POST', (id) => `/v1/generations/${id}/webhook/redeliver`, 'image'],
  ['GET', (id) => `/v1/videos/${id}`, 'video'],
  ['GET', (id) => `/v1/videos/${id}/content`, 'video'],
  ['DELETE', (id) => `/v1/videos/${id}`, 'video'],
];

/** Tenant routes without a job id: [method, route, path, body]. */
const PER_TENANT: readonly (readonly [string, string, string, unknown?])[] = [
  ['GET', '/v1/generations', '/v1/generations'],
  ['POST', '/v1/generations', '/v1/generations', { prompt: 'a blue square' }],
  [
    'POST',
    '/v1/images/generations',
    '/v1/images/generations',
    { prompt: 'a blue square', response_format: 'url' },
  ],
  ['GET', '/v1/webhooks/secret', '/v1/webhooks/secret'],
  ['POST', '/v1/webhooks/secret/rotate', '/v1/webhooks/secret/rotate'],
  ['GET', '/v1/models', '/v1/models'],
  ['GET', '/v1/models/:id', '/v1/models/shapes-mmdit-s'],
  ['GET', '/v1/videos', '/v1/videos'],
  ['POST', '/v1/videos', '/v1/videos', { prompt: 'a red circle moving left', model: VIDEO_MODEL }],
  ['POST', '/v1/videos/extensions', '/v1/videos/extensions', { prompt: 'it goes on' }],
];

const REFUSED: readonly Caller[] = ['revoked', 'forged', 'malformed', 'none'];

let w: World;
beforeAll(async () => {
  w = await world();
});
afterEach(() => {
  vi.useRealTimers();
});

function redact(text: string, ...ids: string[]): string {
  let out = text.replace(/"request_id":"[^"]+"/g, '"request_id":"R"');
  for (const id of ids) out = out.replaceAll(id, 'ID');
  return out;
}

describe('keys × routes × ids', () => {
  it('covers every tenant route the app has', () => {
    const implemented = [
      ...new Set(
        w.app.routes
          .filter(
            (r) =>
              r.method !== 'ALL' && r.path.startsWith('/v1/') && !r.path.startsWith('/v1/files'),
          )
          .map((r) => `${r.method} ${r.path}`),
      ),
    ].sort();
    const tested = [
      ...PER_JOB.map(([m, p]) => `${m} ${p(':id')}`),
      ...PER_TENANT.map(([m, route]) => `${m} ${route}`),
    ].sort();
    expect(implemented).toEqual(tested);
  });

  it.each(REFUSED)('a %s key gets 401 on every tenant route and every id', async (caller) => {
    const answers: string[] = [];
    for (const [method, path, kind] of PER_JOB) {
      for (const id of [w.jobs[kind].queued, w.jobs[kind].succeeded, NEVER]) {
        const r = await w.call(caller, method, path(id));
        answers.push(
          `${method} ${path(id === NEVER ? 'never' : 'own')} ${String(r.status)} ${r.headers.get('content-type') ?? ''}`,
        );
        expect(redact(await r.text(), id)).toMatch(/"code":"unauthorized"/);
      }
    }
    for (const [method, , path, body] of PER_TENANT) {
      const r = await w.call(caller, method, path, body);
      answers.push(`${method} ${path} ${String(r.status)} ${r.headers.get('content-type') ?? ''}`);
      expect(await r.text()).toMatch(/"code":"unauthorized"/);
    }
    expect(answers.filter((a) => !a.endsWith('401 application/problem+json'))).toEqual([]);
  });

  it.each(PER_JOB.map(([m, p, kind]) => [`${m} ${p(':id')}`, m, p, kind] as const))(
    'another tenant gets the answer of an id that never existed: %s',
    async (_, method, path, kind) => {
      for (const id of [w.jobs[kind].queued, w.jobs[kind].succeeded]) {
        const before = await w.backend.jobs.get('tenant-alice', id);
        const theirs = await w.call('other', method, path(id));
        const never = await w.call('other', method, path(NEVER));
        expect(theirs.status).toBe(404);
        expect(redact(await theirs.text(), id)).toBe(redact(await never.text(), NEVER));
        expect(await w.backend.jobs.get('tenant-alice', id)).toEqual(before);
        // The owner reaches it (whatever the route says about its state, never 401 or 404).
        const own = await w.call('owner', method, path(id));
        await own.body?.cancel();
        expect([401, 404]).not.toContain(own.status);
        expect(own.status).toBeLessThan(500);
      }
    },
  );

  it('lists, secrets and idempotency keys stay per tenant', async () => {
    const bobs = (await (await w.call('other', 'GET', '/v1/generations?limit=100')).json()) as {
      data: GenerationView[];
    };
    expect(bobs.data.map((g) => g.id)).not.toContain(w.jobs.image.queued);
    expect(bobs.data.map((g) => g.id)).not.toContain(w.jobs.image.succeeded);
    const bobsVideos = (await (await w.call('other', 'GET', '/v1/videos?limit=100')).json()) as {
      data: { id: string }[];
    };
    expect(bobsVideos.data.map((v) => v.id)).not.toContain(w.jobs.video.succeeded);
    const alicesVideos = (await (await w.call('owner', 'GET', '/v1/videos?limit=100')).json()) as {
      data: { id: string }[];
    };
    expect(alicesVideos.data.map((v) => v.id)).toContain(w.jobs.video.queued);
    const secret = async (c: Caller) =>
      ((await (await w.call(c, 'GET', '/v1/webhooks/secret')).json()) as { secret: string }).secret;
    const [a, b] = [await secret('owner'), await secret('other')];
    expect(a).toMatch(/^whsec_/);
    expect(b).not.toBe(a);
  });
});

describe('signed file URLs', () => {
  async function outputUrl(): Promise<URL> {
    const view = (await (
      await w.call('owner', 'GET', `/v1/generations/${w.jobs.image.succeeded}`)
    ).json()) as GenerationView;
    const url = view.outputs[0]?.url;
    if (!url) throw new Error('the succeeded job has no output URL');
    return new URL(url);
  }
  const get = (path: string) => w.app.request(path);

  it('the signature is the authorization: the URL works without a key, for anyone holding it', async () => {
    const url = await outputUrl();
    const r = await get(`${url.pathname}${url.search}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
  });

  it('refuses forged, tampered, expired and re-pointed URLs with 403 url_expired', async () => {
    const url = await outputUrl();
    const key = decodeURIComponent(url.pathname.replace('/v1/files/', ''));
    const expires = Number(url.searchParams.get('expires'));
    const sig = url.searchParams.get('sig') ?? '';
    const secret = (await readFile(join(w.dataDir, 'file-signing.key'), 'utf8')).trim();
    const past = Math.floor(Date.now() / 1000) - 1;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    const cases: Record<string, string> = {
      'a changed signature': `/v1/files/${key}?expires=${String(expires)}&sig=${flipped}`,
      'a later expiry with the old signature': `/v1/files/${key}?expires=${String(expires + 3600)}&sig=${sig}`,
      'a correctly signed URL that has expired': `/v1/files/${key}?expires=${String(past)}&sig=${signFile(secret, key, past)}`,
      'another file with this signature': `/v1/files/${key.replace('0.png', '1.png')}?expires=${String(expires)}&sig=${sig}`,
      "another tenant's folder with this signature": `/v1/files/${key.replace('tenant-alice', 'tenant-bob')}?expires=${String(expires)}&sig=${sig}`,
      'a signature made with another secret': `/v1/files/${key}?expires=${String(expires)}&sig=${signFile('not-the-secret', key, expires)}`,
      'an empty signature': `/v1/files/${key}?expires=${String(expires)}&sig=`,
    };
    const answers: Record<string, string> = {};
    for (const [name, path] of Object.entries(cases)) {
      const r = await get(path);
      const body = (await r.json()) as { code: string };
      answers[name] = `${String(r.status)} ${body.code}`;
    }
    expect(answers).toEqual(
      Object.fromEntries(Object.keys(cases).map((k) => [k, '403 url_expired'])),
    );
  });

  it('never serves a file outside the blobs folder, however the key is spelled', async () => {
    const secret = (await readFile(join(w.dataDir, 'file-signing.key'), 'utf8')).trim();
    const expires = Math.floor(Date.now() / 1000) + 600;
    // Even a URL signed with the real secret (as if it leaked) cannot leave the folder.
    const keys = [
      '../file-signing.key',
      'jobs/../../file-signing.key',
      '..%2ffile-signing.key',
      '%2e%2e/file-signing.key',
      '%2e%2e%2ffile-signing.key',
      'jobs/tenant-alice/..%2f..%2f..%2ffile-signing.key',
      '..\\file-signing.key',
      '/etc/passwd',
      '%2fetc%2fpasswd',
      'keys',
    ];
    const answers: string[] = [];
    for (const key of keys) {
      for (const signedKey of [key, decodeURIComponent(key)]) {
        const sig = signFile(secret, signedKey, expires);
        const r = await get(`/v1/files/${key}?expires=${String(expires)}&sig=${sig}`);
        const text = await r.text();
        if (r.status < 400 || r.status >= 500 || text.includes(secret)) {
          answers.push(`${key} (signed as ${signedKey}): ${String(r.status)}`);
        }
        expect(r.headers.get('content-type')).toBe('application/problem+json');
      }
    }
    expect(answers).toEqual([]);
  });
});

describe('revoked keys', () => {
  it('stop working once the 30 s key cache has let go of them', async () => {
    const issued = await issueApiKey(w.backend.keys, 'tenant-alice', 'to revoke');
    const use = () =>
      w.app.request('/v1/generations', { headers: { authorization: `Bearer ${issued.key}` } });
    expect((await use()).status).toBe(200);
    await w.backend.keys.revokeKey(issued.record.id, new Date());
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 30_001);
    const r = await use();
    expect(r.status).toBe(401);
    expect(((await r.json()) as { code: string }).code).toBe('unauthorized');
  });
});

describe('logs', () => {
  it('hold no API key, webhook secret, file signing secret or file signature', async () => {
    // Whatever the tests above did is in the log by now; add the webhook secrets as read.
    const secrets = [...w.secrets];
    for (const c of ['owner', 'other'] as const) {
      const s = (await (await w.call(c, 'GET', '/v1/webhooks/secret')).json()) as {
        secret: string;
        previous: string[];
      };
      secrets.push(s.secret, ...s.previous);
    }
    const view = (await (
      await w.call('owner', 'GET', `/v1/generations/${w.jobs.image.succeeded}`)
    ).json()) as GenerationView;
    secrets.push(
      new URL(view.outputs[0]?.url ?? 'http://x/?sig=none').searchParams.get('sig') ?? '',
    );
    expect(w.logs.length).toBeGreaterThan(50);
    const text = w.logs.join('\n');
    const parts = secrets.map((s) => s.replace(/^dsk_[0-9a-f]{12}_/, '').replace(/^whsec_/, ''));
    expect(parts.filter((p) => p.length >= 16 && text.includes(p))).toEqual([]);
    // The key ids (public halves) may be logged; the request lines are there.
    expect(text).toMatch(/"status":401/);
  });
});
