import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import { FsKeyStore } from '../../core/adapters/local/fs-key-store.ts';
import { writeTestModel } from '../helpers/test-model.ts';
import { seededRandom } from '../reliability/rng.ts';
import { ProcessGroup, registerCleanup, type Managed } from '../reliability/processes.ts';

/** What one request of the load came to. */
interface Outcome {
  readonly kind: string;
  /** HTTP status, or 0 for a network error. */
  readonly status: number;
  readonly ms: number;
  readonly retryAfter: string | null;
  readonly contentType: string | null;
  readonly error?: string;
}

export interface LoadOptions {
  readonly seconds: number;
  /** Concurrent well-behaved clients, spread over the tenants. */
  readonly clients: number;
  readonly seed: number;
}

export interface LoadReport {
  readonly seconds: number;
  readonly clients: number;
  readonly seed: number;
  readonly requests: number;
  readonly byKind: Record<string, Record<string, number>>;
  readonly status5xx: number;
  readonly networkErrors: string[];
  readonly rateLimited: number;
  readonly rateLimitedWithoutRetryAfter: number;
  readonly clientErrorsNotProblemJson: string[];
  readonly latencyMs: Record<string, { n: number; p50: number; p99: number; max: number }>;
  readonly jobs: {
    accepted: number;
    succeeded: number;
    failed: number;
    canceled: number;
    other: number;
    lost: string[];
    stuck: string[];
  };
  /** Streams read to `done`, hung up on purpose, and cut off by the client's 30 s bound. */
  readonly sse: { opened: number; finished: number; abandoned: number; cutOff: number };
  readonly rssMiB: { api: [number, number]; worker: [number, number] };
  readonly secretsInLogs: string[];
  readonly workerErrors: number;
}

const PROMPTS = ['a red circle', 'a big blue square', 'a small green triangle', 'red , blue'];
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);

/** The part of a key or secret that must never be seen: after `dsk_<id>_` or `whsec_`. */
function secretPart(secret: string): string {
  if (secret.startsWith('dsk_')) return secret.slice('dsk_'.length + 13);
  if (secret.startsWith('whsec_')) return secret.slice('whsec_'.length);
  return secret;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, i)] ?? 0) * 10) / 10;
}

async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${String(pid)}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? Math.round(Number(kb) / 1024) : NaN;
}

/**
 * Mixed traffic against the embedded stack with its worker generating: `clients` loops, each
 * for one of two tenants, pick at random among submits (some with `Prefer: wait`, some with an
 * Idempotency-Key and a replay), reads of their jobs, lists, SSE streams read to the end or
 * abandoned, cancels, and bad requests (malformed JSON, wrong type, invalid fields, oversized
 * body, unknown ids and routes, another tenant's id, no or a wrong key); each honours
 * Retry-After on a 429, as a client should. A third tenant floods a cheap route in bursts,
 * ignoring 429s, to hold the rate limit under pressure. Afterwards every accepted job must end.
 */
export async function runLoad(
  options: LoadOptions,
  log: (message: string) => void,
): Promise<LoadReport> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const group = new ProcessGroup();
  const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-load-'));
  const cleanups = [
    registerCleanup(() => group.killAll()),
    registerCleanup(() => rm(dataDir, { recursive: true, force: true })),
  ];
  try {
    const modelDir = await writeTestModel(join(dataDir, 'model'));
    const keyStore = new FsKeyStore({ root: dataDir });
    const tenants = ['load-a', 'load-b', 'load-flood'];
    const keys: Record<string, string> = {};
    for (const t of tenants) keys[t] = (await issueApiKey(keyStore, t, 'load')).key;
    const api = group.spawn('api', ['--import', 'tsx', 'tests/security/load-api.ts'], {
      DITSERVE_DATA_DIR: dataDir,
      DITSERVE_MODEL_DIRS: modelDir,
      PORT: '0',
      NODE_NO_WARNINGS: '1',
    });
    let baseUrl = '';
    api.onLine((line) => {
      if (line.type === 'api_listening') baseUrl = String(line.url);
    });
    await api.waitForLine('the API listening', (l) => l.type === 'api_listening', 60_000);
    const worker: Managed = group.spawn(
      'worker',
      ['--import', 'tsx', 'gpu-worker/src/worker/main.ts'],
      {
        DITSERVE_BACKEND: 'local',
        DITSERVE_DATA_DIR: dataDir,
        DITSERVE_PUBLIC_URL: baseUrl,
        DITSERVE_MODEL_DIRS: modelDir,
        DITSERVE_DEVICE: 'cpu',
        DITSERVE_THREADS: '1',
        DITSERVE_HEALTH_PORT: '0',
        DITSERVE_POLL_SECONDS: '1',
        DITSERVE_EMF: 'false',
        NODE_NO_WARNINGS: '1',
      },
    );
    await worker.waitForLine('the worker ready', (l) => l.state === 'ready', 60_000);
    const rssStart = {
      api: await rssMiB(api.child.pid),
      worker: await rssMiB(worker.child.pid),
    };

    const outcomes: Outcome[] = [];
    const accepted = new Map<string, string>(); // id → tenant
    const sse = { opened: 0, finished: 0, abandoned: 0, cutOff: 0 };
    const secrets = new Set(Object.values(keys));

    async function call(
      kind: string,
      tenant: string | undefined,
      method: string,
      path: string,
      init: { body?: string; headers?: Record<string, string>; key?: string } = {},
    ): Promise<Response | undefined> {
      const key = init.key ?? (tenant ? keys[tenant] : undefined);
      const started = performance.now();
      try {
        const response = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
          ...(init.body === undefined ? {} : { body: init.body }),
        });
        outcomes.push({
          kind,
          status: response.status,
          ms: performance.now() - started,
          retryAfter: response.headers.get('retry-after'),
          contentType: response.headers.get('content-type'),
        });
        return response;
      } catch (error) {
        outcomes.push({
          kind,
          status: 0,
          ms: performance.now() - started,
          retryAfter: null,
          contentType: null,
          error: `${method} ${path}: ${String((error as Error).cause ?? error)}`,
        });
        return undefined;
      }
    }

    /** Reads a response, waits out a 429's Retry-After; returns the JSON of a 2xx. */
    async function settle(response: Response | undefined): Promise<Record<string, unknown>> {
      if (!response) return {};
      const text = await response.text();
      if (response.status === 429) {
        await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
      }
      if (response.status >= 300) return {};
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    }

    const json = { 'content-type': 'application/json' };
    const own = (tenant: string) => [...accepted].filter(([, t]) => t === tenant).map(([id]) => id);

    const actions: readonly [number, (tenant: string, other: string) => Promise<void>][] = [
      [
        5,
        async (tenant) => {
          const body = JSON.stringify({
            prompt: pick(PROMPTS),
            steps: 1 + Math.floor(random() * 6),
            seed: Math.floor(random() * 1e6),
            num_images: random() < 0.2 ? 2 : 1,
          });
          const idem = random() < 0.2 ? { 'idempotency-key': `k-${String(random())}` } : {};
          const wait = random() < 0.15;
          const headers = { ...json, ...idem, ...(wait ? { prefer: 'wait=5' } : {}) };
          const view = await settle(
            await call(wait ? 'submit_wait' : 'submit', tenant, 'POST', '/v1/generations', {
              body,
              headers,
            }),
          );
          if (typeof view.id === 'string') accepted.set(view.id, tenant);
          if (typeof view.id === 'string' && 'idempotency-key' in idem) {
            await settle(
              await call('submit_replay', tenant, 'POST', '/v1/generations', { body, headers }),
            );
          }
        },
      ],
      [
        4,
        async (tenant) => {
          const ids = own(tenant);
          if (ids.length > 0)
            await settle(await call('get', tenant, 'GET', `/v1/generations/${pick(ids)}`));
        },
      ],
      [
        2,
        async (tenant) => {
          const query = pick(['?limit=5', '?limit=20&status=succeeded', '?status=queued', '']);
          await settle(await call('list', tenant, 'GET', `/v1/generations${query}`));
        },
      ],
      [
        1,
        async (tenant) => {
          const ids = own(tenant);
          if (ids.length > 0)
            await settle(
              await call('cancel', tenant, 'POST', `/v1/generations/${pick(ids)}/cancel`),
            );
        },
      ],
      [
        2,
        async (tenant) => {
          // A stream of a job submitted just now (so usually still queued or running).
          const view = await settle(
            await call('submit', tenant, 'POST', '/v1/generations', {
              body: JSON.stringify({ prompt: pick(PROMPTS), steps: 1 + Math.floor(random() * 6) }),
              headers: json,
            }),
          );
          const id = typeof view.id === 'string' ? view.id : undefined;
          if (!id) return;
          accepted.set(id, tenant);
          // Abandoned streams hang up after their first event, whether the job ended or not.
          const abandon = random() < 0.4;
          const response = await call('sse', tenant, 'GET', `/v1/generations/${id}/events`, {
            headers: { accept: 'text/event-stream' },
          });
          if (!response?.body || response.status !== 200) {
            await settle(response);
            return;
          }
          sse.opened += 1;
          const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
          let text = '';
          let ended = false;
          // A bound, so that a stream that never ends cannot hold its client for its 15 minutes.
          const bound = { hit: false };
          const timer = setTimeout(() => {
            bound.hit = true;
            void reader.cancel().catch(() => undefined);
          }, 30_000);
          for (;;) {
            const { done, value } = await reader
              .read()
              .catch(() => ({ done: true, value: undefined }));
            if (done || !value) break;
            text += Buffer.from(value).toString('utf8');
            ended = text.includes('event: done');
            if (ended || (abandon && text.includes('\n\n'))) break;
          }
          clearTimeout(timer);
          if (ended) sse.finished += 1;
          else if (bound.hit) sse.cutOff += 1;
          else sse.abandoned += 1;
          await reader.cancel().catch(() => undefined);
        },
      ],
      [
        3,
        async (tenant, other) => {
          const bad = pick([
            () =>
              call('bad_json', tenant, 'POST', '/v1/generations', {
                body: '{"prompt":',
                headers: json,
              }),
            () =>
              call('bad_type', tenant, 'POST', '/v1/generations', {
                body: 'prompt=x',
                headers: { 'content-type': 'text/plain' },
              }),
            () =>
              call('bad_field', tenant, 'POST', '/v1/generations', {
                body: JSON.stringify({ prompt: 'a red circle', steps: -3, width: 'x' }),
                headers: json,
              }),
            () =>
              call('bad_oversize', tenant, 'POST', '/v1/generations', {
                body: JSON.stringify({ prompt: 'a'.repeat(100_000) }),
                headers: json,
              }),
            () =>
              call(
                'bad_unknown_id',
                tenant,
                'GET',
                '/v1/generations/gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B',
              ),
            () =>
              call(
                'bad_other_tenant',
                tenant,
                'GET',
                `/v1/generations/${pick(own(other).length ? own(other) : ['gen_none'])}`,
              ),
            () => call('bad_no_key', undefined, 'GET', '/v1/generations'),
            () =>
              call('bad_wrong_key', undefined, 'GET', '/v1/generations', {
                key: `dsk_000000000000_${'A'.repeat(43)}`,
              }),
            () => call('bad_route', tenant, 'GET', '/v1/nothing-here'),
            () => call('bad_method', tenant, 'DELETE', '/v1/generations'),
            () => call('bad_query', tenant, 'GET', '/v1/generations?limit=abc&status=nope'),
          ]);
          await settle(await bad());
        },
      ],
    ];
    const totalWeight = actions.reduce((n, [w]) => n + w, 0);
    const chooseAction = () => {
      let r = random() * totalWeight;
      for (const [w, action] of actions) {
        r -= w;
        if (r < 0) return action;
      }
      return actions[0]?.[1];
    };

    const end = Date.now() + options.seconds * 1000;
    const clients = Array.from({ length: options.clients }, async (_, i) => {
      const tenant = i % 2 === 0 ? 'load-a' : 'load-b';
      const other = tenant === 'load-a' ? 'load-b' : 'load-a';
      while (Date.now() < end) await chooseAction()?.(tenant, other);
    });
    // The flood: 40 requests at once every second, 429s ignored.
    const flood = (async () => {
      while (Date.now() < end) {
        await Promise.all(
          Array.from({ length: 40 }, async () => {
            const r = await call('flood', 'load-flood', 'GET', '/v1/generations?limit=1');
            await r?.text();
          }),
        );
        await sleep(1000);
      }
    })();
    // The webhook secret is read once, so that it can be looked for in the logs.
    const secretView = await settle(await call('secret', 'load-a', 'GET', '/v1/webhooks/secret'));
    if (typeof secretView.secret === 'string') secrets.add(secretView.secret);
    await Promise.all([...clients, flood]);
    log(`traffic done: ${String(outcomes.length)} requests, ${String(accepted.size)} jobs`);

    // Every accepted job ends: read each tenant's list until none is left open (bounded).
    const statusOf = new Map<string, string>();
    const deadline = Date.now() + 90_000;
    const open = () => [...accepted.keys()].filter((id) => !TERMINAL.has(statusOf.get(id) ?? ''));
    while (open().length > 0 && Date.now() < deadline) {
      for (const tenant of ['load-a', 'load-b']) {
        let cursor: string | undefined;
        do {
          const page = await settle(
            await call(
              'check',
              tenant,
              'GET',
              `/v1/generations?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            ),
          );
          for (const job of (page.data as { id: string; status: string }[] | undefined) ?? []) {
            statusOf.set(job.id, job.status);
          }
          cursor = typeof page.next_cursor === 'string' ? page.next_cursor : undefined;
        } while (cursor);
      }
      if (open().length > 0) await sleep(500);
    }
    const lost: string[] = [];
    for (const id of [...accepted.keys()].filter((i) => !statusOf.has(i))) {
      const r = await call('check', accepted.get(id), 'GET', `/v1/generations/${id}`);
      const body = await settle(r);
      if (typeof body.status === 'string') statusOf.set(id, body.status);
      else lost.push(id);
    }
    const rssEnd = {
      api: await rssMiB(api.child.pid),
      worker: await rssMiB(worker.child.pid),
    };

    // Keys and secrets never in a log line of either process.
    const logText =
      [...api.lines, ...worker.lines].map((l) => JSON.stringify(l.line)).join('\n') +
      [...api.rawTail, ...worker.rawTail].join('\n');
    secrets.add((await readFile(join(dataDir, 'file-signing.key'), 'utf8')).trim());
    const secretsInLogs = [...secrets].filter((s) => logText.includes(secretPart(s)));

    const byKind: Record<string, Record<string, number>> = {};
    for (const o of outcomes) {
      const k = (byKind[o.kind] ??= {});
      k[String(o.status)] = (k[String(o.status)] ?? 0) + 1;
    }
    const latencyMs: LoadReport['latencyMs'] = {};
    const groups = new Map<string, number[]>();
    for (const o of outcomes) {
      if (o.status === 0 || ['sse', 'submit_wait', 'check'].includes(o.kind)) continue;
      const name = o.kind.startsWith('bad_') ? 'bad' : o.kind;
      for (const g of [name, 'all']) groups.set(g, [...(groups.get(g) ?? []), o.ms]);
    }
    for (const [name, values] of groups) {
      const sorted = [...values].sort((a, b) => a - b);
      latencyMs[name] = {
        n: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: percentile(sorted, 100),
      };
    }
    const statuses = [...statusOf.values()];
    const count = (s: string) => statuses.filter((x) => x === s).length;
    return {
      seconds: options.seconds,
      clients: options.clients,
      seed: options.seed,
      requests: outcomes.length,
      byKind,
      status5xx: outcomes.filter((o) => o.status >= 500).length,
      networkErrors: outcomes.flatMap((o) => (o.error ? [o.error] : [])),
      rateLimited: outcomes.filter((o) => o.status === 429).length,
      rateLimitedWithoutRetryAfter: outcomes.filter(
        (o) => o.status === 429 && !/^[1-9]\d*$/.test(o.retryAfter ?? ''),
      ).length,
      clientErrorsNotProblemJson: outcomes
        .filter(
          (o) => o.status >= 400 && o.status < 500 && o.contentType !== 'application/problem+json',
        )
        .map((o) => `${o.kind} ${String(o.status)} ${o.contentType ?? '(none)'}`),
      latencyMs,
      jobs: {
        accepted: accepted.size,
        succeeded: count('succeeded'),
        failed: count('failed'),
        canceled: count('canceled'),
        other: statuses.length - count('succeeded') - count('failed') - count('canceled'),
        lost,
        stuck: open().filter((id) => !lost.includes(id)),
      },
      sse,
      rssMiB: { api: [rssStart.api, rssEnd.api], worker: [rssStart.worker, rssEnd.worker] },
      secretsInLogs: secretsInLogs.map((s) => `${s.slice(0, 8)}…`),
      workerErrors: worker.lines.filter((l) => l.line.type === 'error').length,
    };
  } finally {
    for (const step of cleanups.reverse()) await step();
  }
}
