/**
 * API: requests/s and latency of `POST /v1/generations` (JSON body checks, API-key auth, rate
 * limit, validation against the model, backpressure, job stored and enqueued on the local
 * filesystem adapters of core/backend/local.ts) under autocannon, next to a bare Hono route that
 * answers the same path with a constant 202, both over a real @hono/node-server listener
 * (functions/api/server.ts `listen`) in this process. autocannon runs as its own process (its
 * CLI, --json), so the load generator does not share the server's event loop, but it does share
 * this machine's cores.
 *
 *   npx tsx bench/api.bench.ts [--seconds 5] [--connections 10]
 *
 * A bare route is not a fair peer for a route that writes to disk, so two more peers do only the
 * submit's durable writes with plain `fs` calls (bench/lib/fs-enqueue-peer.ts): the same job
 * record, list and sweeper entries and queue message as the local adapters write them, once as
 * they do (no fsync) and once flushed to disk (fsync of every file and folder). The ratios
 * against them say what the API costs beyond its writes.
 *
 * The rate limit is lifted (ApiDeps.limits) and maxQueuedPerTenant set high; the data folder is
 * a fresh temporary one. Submission's backpressure check lists the tenant's queued jobs, and the
 * filesystem job store reads every job folder of the tenant to do it, so the cost of a submit
 * grows with the tenant's history: the bench runs the real route twice, on an empty tenant and
 * right after on the same tenant (now holding the first window's jobs), and reports both.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hono } from 'hono';
import { issueApiKey } from '../core/auth/api-keys.ts';
import { localBackend } from '../core/backend/local.ts';
import { loadModelCatalog } from '../gpu-worker/src/model-contract/index.ts';
import { createApp } from '../functions/api/app.ts';
import { listen } from '../functions/api/server.ts';
import type { JobRecord } from '../core/ports/job-store.ts';
import { fsEnqueuePeer } from './lib/fs-enqueue-peer.ts';
import { machine, report, round, table } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    model: { type: 'string', default: 'models/shapes-mmdit-s' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const autocannonBin = join(
  dirname(createRequire(import.meta.url).resolve('autocannon/package.json')),
  'autocannon.js',
);

interface Histogram {
  average: number;
  p50: number;
  p99: number;
  max: number;
}
interface CannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  non2xx: number;
  errors: number;
  duration: number;
}

function cannon(url: string, headers: Record<string, string>, body: string, duration: number) {
  const args = [
    autocannonBin,
    '--json',
    '-c',
    String(connections),
    '-d',
    String(duration),
    '-m',
    'POST',
    '-b',
    body,
  ];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  return new Promise<CannonResult>((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (error, stdout) => {
      if (error) reject(new Error(`autocannon failed: ${error.message}`, { cause: error }));
      else resolve(JSON.parse(stdout) as CannonResult);
    });
  });
}

const body = JSON.stringify({ prompt: 'a red circle left of a blue square', seed: 7 });

// The bare route: same path, method and body, constant answer.
const bare = new Hono();
bare.post('/v1/generations', (c) => c.json({ id: 'gen_bare', status: 'queued' }, 202));
const bareServer = await listen(bare, { host: '127.0.0.1', port: 0 });

// The real API on the local filesystem adapters.
const dataDir = await mkdtemp(join(tmpdir(), 'ditserve-api-bench-'));
const apiServerPort = { port: 0 };
let handler: (request: Request) => Response | Promise<Response> = () =>
  new Response(null, { status: 503 });
const apiServer = await listen(
  { fetch: (request: Request) => handler(request) },
  { host: '127.0.0.1', ...apiServerPort },
);
const backend = await localBackend({ dataDir, publicUrl: apiServer.url });
const { key } = await issueApiKey(backend.keys, 'bench-tenant', 'bench key');
const app = createApp({
  jobs: backend.jobs,
  queue: backend.queue,
  outbox: backend.outbox,
  blobs: backend.blobs,
  keys: backend.keys,
  deliveryLog: backend.deliveryLog,
  models: await loadModelCatalog([values.model]),
  auth: { kind: 'keys' },
  limits: { requestsPerSecond: 1e9, burst: 1e9, maxQueuedPerTenant: 1e9 },
});
handler = (request) => app.fetch(request);

// One request by hand first: the route must answer 202, or the numbers mean nothing.
const probe = await fetch(`${apiServer.url}/v1/generations`, {
  method: 'POST',
  headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
  body,
});
if (probe.status !== 202)
  throw new Error(`POST /v1/generations answered ${probe.status}: ${await probe.text()}`);
const probeId = ((await probe.json()) as { id: string }).id;
const template: JobRecord = await backend.jobs.get('bench-tenant', probeId);

// The durable peers, each on its own data folder.
const peerDirs = [
  await mkdtemp(join(tmpdir(), 'ditserve-api-bench-peer-')),
  await mkdtemp(join(tmpdir(), 'ditserve-api-bench-peer-fsync-')),
];
const fsPeer = await listen(fsEnqueuePeer(peerDirs[0] ?? '', template, false), {
  host: '127.0.0.1',
  port: 0,
});
const fsyncPeer = await listen(fsEnqueuePeer(peerDirs[1] ?? '', template, true), {
  host: '127.0.0.1',
  port: 0,
});

const json = { 'content-type': 'application/json' };
const auth = { ...json, authorization: `Bearer ${key}` };
await cannon(`${bareServer.url}/v1/generations`, json, body, 1); // warm-up
const bareRun = await cannon(`${bareServer.url}/v1/generations`, json, body, seconds);
const fsRun = await cannon(`${fsPeer.url}/v1/generations`, json, body, seconds);
const fsyncRun = await cannon(`${fsyncPeer.url}/v1/generations`, json, body, seconds);
const fresh = await cannon(`${apiServer.url}/v1/generations`, auth, body, seconds);
const historyJobs = fresh.requests.total + 1;
const later = await cannon(`${apiServer.url}/v1/generations`, auth, body, seconds);
await bareServer.close();
await fsPeer.close();
await fsyncPeer.close();
await apiServer.close();
for (const dir of [dataDir, ...peerDirs]) await rm(dir, { recursive: true, force: true });

const row = (name: string, r: CannonResult) => ({
  name,
  requestsPerSecond: round(r.requests.average, 0),
  p50Ms: r.latency.p50,
  p99Ms: r.latency.p99,
  maxMs: r.latency.max,
  total: r.requests.total,
  non2xx: r.non2xx,
  errors: r.errors,
});
const rows = [
  row('bare Hono route (constant 202)', bareRun),
  row('durable fs enqueue (the same writes, no fsync)', fsRun),
  row('durable fs enqueue + fsync (files and folders)', fsyncRun),
  row('POST /v1/generations, empty tenant', fresh),
  row(`POST /v1/generations, tenant holding ${historyJobs} jobs`, later),
];
const [b, p, s, f, l] = rows;
const ratio = (x: number | undefined, y: number | undefined) =>
  ((x ?? NaN) / (y ?? NaN)).toFixed(3);
report(
  'api',
  `${table([
    ['route', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'requests', 'non-2xx'],
    ...rows.map((r) => [r.name, r.requestsPerSecond, r.p50Ms, r.p99Ms, r.maxMs, r.total, r.non2xx]),
  ])}\n\n${connections} connections, ${seconds} s per row, autocannon in its own process\n` +
    `API / bare, req/s: ${ratio(f?.requestsPerSecond, b?.requestsPerSecond)} (empty tenant), ` +
    `${ratio(l?.requestsPerSecond, b?.requestsPerSecond)} (tenant with history)\n` +
    `API / durable fs enqueue, req/s: ${ratio(f?.requestsPerSecond, p?.requestsPerSecond)} ` +
    `(no fsync, as the adapters), ${ratio(f?.requestsPerSecond, s?.requestsPerSecond)} (with fsync); ` +
    `empty tenant`,
  {
    machine: await machine(),
    connections,
    secondsPerRow: seconds,
    rows,
    ratioApiToBare: {
      emptyTenant: Number(ratio(f?.requestsPerSecond, b?.requestsPerSecond)),
      tenantWithHistory: Number(ratio(l?.requestsPerSecond, b?.requestsPerSecond)),
    },
    ratioApiToDurableFs: {
      noFsync: Number(ratio(f?.requestsPerSecond, p?.requestsPerSecond)),
      withFsync: Number(ratio(f?.requestsPerSecond, s?.requestsPerSecond)),
      tenantWithHistoryNoFsync: Number(ratio(l?.requestsPerSecond, p?.requestsPerSecond)),
    },
  },
);
