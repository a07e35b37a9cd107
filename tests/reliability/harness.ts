import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_TIMEOUT_MS } from '../../functions/webhook-dispatcher/attempt.ts';
import { ApiClient, GaveUpError, type AttemptOutcome } from './client.ts';
import type { FaultStats } from './fault-proxy.ts';
import type { LogLine, Managed, ProcessGroup } from './processes.ts';
import { Rng } from './rng.ts';
import type { WebhookLedger } from './webhook-ledger.ts';

/** How big a run is: CI runs a short one, `npm run test:soak` a long one. */
export interface RunSize {
  readonly jobs: number;
  /** SIGKILLs of worker processes (each restarted). */
  readonly workerKills: number;
  /** SIGKILL + restart of the API process (AWS) or of `ditserve serve` (embedded). */
  readonly serverRestarts: number;
  readonly seed: number;
  /** Average pause between two submissions: spreads the jobs over the kills. */
  readonly meanGapMs: number;
}

/** RELIABILITY_SEED / _JOBS / _KILLS / _RESTARTS override a size (to replay or to grow a run). */
export function sizeFromEnv(base: RunSize, env = process.env): RunSize {
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    return raw !== undefined && raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : fallback;
  };
  return {
    ...base,
    seed: num('RELIABILITY_SEED', base.seed),
    jobs: num('RELIABILITY_JOBS', base.jobs),
    workerKills: num('RELIABILITY_KILLS', base.workerKills),
    serverRestarts: num('RELIABILITY_RESTARTS', base.serverRestarts),
  };
}

type CancelPlan = 'none' | 'queued' | 'running';

export interface JobSpec {
  readonly index: number;
  readonly key: string;
  readonly body: Record<string, unknown>;
  readonly webhook: boolean;
  readonly numImages: number;
  readonly cancel: CancelPlan;
  readonly gapMs: number;
}

const SHAPES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross'];
const COLORS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink'];
const SIZES: readonly (readonly [number, number])[] = [
  [128, 128],
  [192, 128],
  [128, 192],
];

/** Small, fast jobs in the model's own sizes: 2–6 steps, some of 2 images, webhooks, cancels. */
export function planWorkload(rng: Rng, size: RunSize, webhookUrl: string): JobSpec[] {
  return Array.from({ length: size.jobs }, (_, index) => {
    const [width, height] = rng.pick(SIZES);
    const numImages = rng.chance(0.25) ? 2 : 1;
    const webhook = rng.chance(0.6);
    const r = rng.next();
    const cancel: CancelPlan = r < 0.06 ? 'queued' : r < 0.14 ? 'running' : 'none';
    const prompt = rng.chance(0.5)
      ? `a ${rng.pick(COLORS)} ${rng.pick(SHAPES)}`
      : `a ${rng.pick(COLORS)} ${rng.pick(SHAPES)} left of a ${rng.pick(COLORS)} ${rng.pick(SHAPES)}`;
    return {
      index,
      key: `reliability-${size.seed}-${index}`,
      webhook,
      numImages,
      cancel,
      gapMs: Math.round(rng.between(0.2, 1.8) * size.meanGapMs),
      body: {
        prompt,
        steps: rng.int(2, 6),
        width,
        height,
        seed: rng.int(0, 1_000_000),
        num_images: numImages,
        ...(webhook ? { webhook: { url: webhookUrl } } : {}),
        metadata: { harness: 'reliability', index: String(index) },
      },
    };
  });
}

export interface Submission {
  readonly spec: JobSpec;
  outcome: 'pending' | 'accepted' | 'rejected' | 'gave_up';
  id?: string;
  /** Every job id an answer for this Idempotency-Key named (the replay check adds its own). */
  readonly ids: Set<string>;
  history: AttemptOutcome[];
  acceptedAt?: number;
  rejection?: { readonly status: number; readonly body: unknown };
  cancel?: {
    outcome: 'canceled' | 'requested' | 'conflict' | 'finished_first' | 'gave_up' | 'other';
    status?: number;
    history?: AttemptOutcome[];
  };
}

interface GenerationView {
  readonly id: string;
  readonly status: string;
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  readonly outputs?: readonly unknown[];
  readonly cancel_requested?: boolean;
  readonly input?: { readonly num_images?: number };
  readonly timings?: { readonly completed_at?: string };
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);

/** Reads an SSE stream until the job runs (or ends); true when it was seen running. */
async function waitUntilRunning(baseUrl: string, id: string, timeoutMs: number): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => {
    abort.abort();
  }, timeoutMs);
  try {
    const res = await fetch(`${baseUrl}/v1/generations/${id}/events`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    if (!res.ok || !res.body) return false;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end < 0) break;
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (!data) continue;
        const status = (JSON.parse(data) as { status?: string }).status ?? '';
        if (status === 'running') return true;
        if (TERMINAL.has(status)) return false;
      }
    }
    return false;
  } catch {
    // The API went away mid-stream (a restart) or the wait ran out: cancel now anyway.
    return false;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function cancelJob(client: ApiClient, sub: Submission): Promise<void> {
  const id = sub.id ?? '';
  if (sub.spec.cancel === 'running') {
    const running = await waitUntilRunning(client.baseUrl, id, 60_000);
    if (!running) {
      const now = await client
        .request<GenerationView>('GET', `/v1/generations/${id}`)
        .catch(() => undefined);
      if (now && TERMINAL.has(now.body.status)) {
        sub.cancel = { outcome: 'finished_first', status: now.status };
        return;
      }
    }
  }
  try {
    const res = await client.request<GenerationView>('POST', `/v1/generations/${id}/cancel`);
    sub.cancel = {
      status: res.status,
      history: [...res.history],
      outcome:
        res.status === 200
          ? res.body.status === 'canceled'
            ? 'canceled'
            : 'requested'
          : res.status === 409
            ? 'conflict'
            : 'other',
    };
  } catch (error) {
    sub.cancel = {
      outcome: 'gave_up',
      history: error instanceof GaveUpError ? [...error.history] : [],
    };
  }
}

/**
 * The clients: submits every job (Idempotency-Key, retries), most of them concurrently with the
 * previous ones, then cancels the planned ones; `onAccepted` sees the running count.
 */
export async function runClients(
  client: ApiClient,
  specs: readonly JobSpec[],
  onAccepted: (accepted: number) => void,
  onAcceptedId?: (sub: Submission) => void,
): Promise<Submission[]> {
  const subs: Submission[] = specs.map((spec) => ({
    spec,
    outcome: 'pending',
    ids: new Set(),
    history: [],
  }));
  let accepted = 0;
  const work: Promise<void>[] = [];
  for (const sub of subs) {
    await sleep(sub.spec.gapMs);
    work.push(
      (async () => {
        try {
          const res = await client.request<GenerationView>('POST', '/v1/generations', {
            body: sub.spec.body,
            headers: { 'idempotency-key': sub.spec.key },
          });
          sub.history = [...res.history];
          if ((res.status === 202 || res.status === 200) && typeof res.body.id === 'string') {
            sub.outcome = 'accepted';
            sub.id = res.body.id;
            sub.ids.add(res.body.id);
            sub.acceptedAt = Date.now();
            accepted += 1;
            onAcceptedId?.(sub);
            onAccepted(accepted);
          } else {
            sub.outcome = 'rejected';
            sub.rejection = { status: res.status, body: res.body };
            return;
          }
        } catch (error) {
          sub.outcome = 'gave_up';
          sub.history =
            error instanceof GaveUpError ? [...error.history] : [`network:${String(error)}`];
          return;
        }
        if (sub.spec.cancel !== 'none') await cancelJob(client, sub);
      })(),
    );
  }
  await Promise.all(work);
  return subs;
}

export type KillMode = 'random' | 'after_started' | 'mid_progress' | 'after_finished';

export interface KillRecord {
  readonly victim: string;
  readonly mode: KillMode;
  /** The mode's line did not come in time: killed at a random moment instead. */
  readonly fellBack: boolean;
  readonly atS: number;
  /** The job whose line triggered the kill. */
  readonly jobId?: string | undefined;
}

const LINE_OF: Record<Exclude<KillMode, 'random'>, (l: LogLine) => boolean> = {
  after_started: (l) => l.type === 'job_started',
  mid_progress: (l) => l.type === 'job_progress',
  after_finished: (l) => l.type === 'job_finished',
};

/**
 * SIGKILLs `p` per `mode`: at once, or synchronously inside the handler of its next matching
 * log line (so the kill lands right after, e.g., `job_finished` is printed), falling back to
 * a kill after `timeoutMs` when no such line comes.
 */
export async function killPer(
  group: ProcessGroup,
  p: Managed,
  mode: KillMode,
  timeoutMs: number,
  t0: number,
  wanted: (line: LogLine) => boolean = () => true,
): Promise<KillRecord> {
  let jobId: string | undefined;
  let fellBack = false;
  if (mode !== 'random') {
    const ofMode = LINE_OF[mode];
    const match = (line: LogLine) => ofMode(line) && wanted(line);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        off();
        fellBack = true;
        resolve();
      }, timeoutMs);
      const off = p.onLine((line) => {
        if (!match(line)) return;
        p.child.kill('SIGKILL');
        jobId = line.jobId;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
  const atS = (Date.now() - t0) / 1000;
  await group.kill(p, 'SIGKILL');
  return { victim: p.name, mode, fellBack, atS, jobId };
}

export interface Restartable {
  readonly slot: string;
  /** Spawns the process and resolves once it serves (worker polling, API listening). */
  start(): Promise<Managed>;
}

/** Worker kills one after another at seeded moments, each victim restarted before the next. */
export async function runWorkerChaos(options: {
  readonly group: ProcessGroup;
  readonly workers: readonly Restartable[];
  readonly kills: number;
  readonly rng: Rng;
  readonly t0: number;
  readonly log: (message: string) => void;
  /** Which lines may trigger a kill (e.g. only jobs with a webhook). */
  readonly wanted?: ((line: LogLine) => boolean) | undefined;
}): Promise<KillRecord[]> {
  const { group, rng } = options;
  const records: KillRecord[] = [];
  // Every mode comes up; the first kill is the one that matters most.
  const cycle: KillMode[] = ['after_finished', 'mid_progress', 'random', 'after_started'];
  for (let i = 0; i < options.kills; i++) {
    await sleep(rng.between(500, 3500));
    const victim = rng.pick(options.workers);
    const p = group.current(victim.slot);
    if (!p) continue;
    const mode = cycle[i % cycle.length] ?? 'random';
    const record = await killPer(group, p, mode, 15_000, options.t0, options.wanted);
    records.push(record);
    options.log(`killed ${record.victim} (${record.mode}${record.fellBack ? ', fell back' : ''})`);
    await sleep(rng.between(200, 1500));
    await victim.start();
  }
  return records;
}

export interface Settings {
  /** The longest visibility timeout of any consumer of the jobs queue (seconds). */
  readonly visibilitySeconds: number;
  readonly sweepSeconds: number;
  /** The sweeper sends a queued job's message again after this long (DITSERVE_REQUEUE_SECONDS). */
  readonly requeueSeconds: number;
  readonly maxAttempts: number;
  /** The visibility timeout of the quickest sweeper (it announces ends that no one did). */
  readonly sweeperVisibilitySeconds: number;
  /** A generous bound on one batch's run on this machine (seconds). */
  readonly jobBoundSeconds: number;
  /** Worker loops polling the jobs queue at the end. */
  readonly consumers: number;
  /**
   * How long one stalled receive can hold a consumer before its client gives up and retries
   * (the long-poll deadline where the proxy stalls SQS; 0 without faults).
   */
  readonly receiveStallSeconds: number;
  readonly maxBatchImages: number;
}

/** The webhook dispatcher's visibility timeout (functions/webhook-dispatcher/local-dispatcher). */
export const DISPATCHER_VISIBILITY_SECONDS = Math.ceil(DEFAULT_TIMEOUT_MS / 1000) + 30;

export interface ScenarioContext {
  readonly name: string;
  readonly size: RunSize;
  readonly group: ProcessGroup;
  readonly client: ApiClient;
  readonly ledger: WebhookLedger;
  readonly workers: readonly Restartable[];
  readonly server: Restartable;
  /** How the server's restarts kill it, in turn (`after_finished` where it runs a worker loop). */
  readonly serverKillModes: readonly KillMode[];
  /** Prefix of the slots whose log lines carry worker events (job_started …). */
  readonly workerLinePrefixes: readonly string[];
  readonly settings: Settings;
  /** The raw stored record (attempts, lease), read around the API, for failure reports. */
  readonly readRecord: (id: string) => Promise<unknown>;
  readonly faults?: (() => FaultStats) | undefined;
  /** When the scenario started (times in the report are relative to it). */
  readonly t0: number;
  readonly log: (message: string) => void;
}

export interface Failure {
  readonly check: string;
  readonly jobId?: string | undefined;
  readonly message: string;
}

export interface ScenarioReport {
  readonly summary: Record<string, unknown>;
  readonly failures: readonly Failure[];
  /** Per failing job: spec, view, record, worker lines, webhooks. */
  readonly details: Record<string, unknown>;
}

const expectedEventType = (status: string) =>
  status === 'succeeded'
    ? 'generation.succeeded'
    : status === 'canceled'
      ? 'generation.canceled'
      : 'generation.failed';

function compactView(view: GenerationView | undefined) {
  return (
    view && {
      status: view.status,
      error: view.error,
      outputs: view.outputs?.length,
      cancel_requested: view.cancel_requested,
      timings: view.timings,
    }
  );
}

async function getView(client: ApiClient, id: string) {
  try {
    const res = await client.request<GenerationView>('GET', `/v1/generations/${id}`, {
      retry: (s) => s >= 500 || s === 429,
    });
    return res;
  } catch {
    return undefined;
  }
}

/**
 * The whole scenario once the processes are up: clients and chaos at once, then the wait until
 * quiet (bounded by deadlines derived from the settings), then every acceptance check.
 */
export async function runScenario(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { size, client, ledger, group, settings } = ctx;
  const rng = new Rng(size.seed);
  const specs = planWorkload(rng, size, ledger.url);
  const chaosRng = new Rng(size.seed ^ 0x5eed);
  const elapsed = () => (Date.now() - ctx.t0) / 1000;

  // Server restarts at seeded points of the submissions (between 25 % and 75 % accepted).
  const restartAt = Array.from({ length: size.serverRestarts }, (_, i) =>
    Math.max(
      1,
      Math.round(
        size.jobs * (0.25 + (0.5 * (i + chaosRng.between(0.2, 0.8))) / size.serverRestarts),
      ),
    ),
  );
  // A kill right after a job's line is worth most when that job has a webhook to lose.
  const webhookJobs = new Set<string>();
  const wanted = (line: LogLine) => line.jobId !== undefined && webhookJobs.has(line.jobId);
  const serverKills: KillRecord[] = [];
  let serverChain = Promise.resolve();
  let restartsDone = 0;
  const onAccepted = (accepted: number) => {
    while (restartsDone < restartAt.length && accepted >= (restartAt[restartsDone] ?? Infinity)) {
      restartsDone += 1;
      serverChain = serverChain.then(async () => {
        const p = group.current(ctx.server.slot);
        if (!p) return;
        const mode = ctx.serverKillModes[serverKills.length % ctx.serverKillModes.length];
        const record = await killPer(group, p, mode ?? 'random', 15_000, ctx.t0, wanted);
        serverKills.push(record);
        ctx.log(`killed ${record.victim} (${record.mode}${record.fellBack ? ', fell back' : ''})`);
        await ctx.server.start();
      });
    }
  };

  ctx.log(`submitting ${specs.length} jobs, ${size.workerKills} worker kills`);
  const [subs, workerKills] = await Promise.all([
    runClients(client, specs, onAccepted, (sub) => {
      if (sub.spec.webhook && sub.id) webhookJobs.add(sub.id);
    }),
    runWorkerChaos({
      group,
      workers: ctx.workers,
      kills: size.workerKills,
      rng: chaosRng,
      t0: ctx.t0,
      log: ctx.log,
      wanted,
    }),
  ]);
  await serverChain;
  const quietAt = Date.now();
  ctx.log(`quiet at ${elapsed().toFixed(1)} s; waiting for the jobs to settle`);

  // Wait until every accepted job is terminal, or the deadline.
  const accepted = subs.filter((s) => s.outcome === 'accepted' && s.id);
  const views = new Map<string, GenerationView | undefined>();
  const pending = () => accepted.filter((s) => !TERMINAL.has(views.get(s.id ?? '')?.status ?? ''));
  for (const s of accepted) views.set(s.id ?? '', undefined);
  const readPending = async () => {
    for (const s of pending()) {
      const res = await getView(client, s.id ?? '');
      if (res?.status === 200) views.set(s.id ?? '', res.body);
    }
  };
  await readPending();
  const nonTerminalAtQuiet = pending().length;
  const batches = Math.ceil(
    nonTerminalAtQuiet / Math.max(1, settings.consumers * settings.maxBatchImages),
  );
  // A running job's message comes back one visibility timeout after its worker died, and a
  // sweeper pass (every sweepSeconds) catches one that never will (after requeueSeconds for a
  // queued job); then the backlog runs, a batch at a time per consumer.
  const jobDeadlineS =
    settings.visibilitySeconds +
    settings.sweepSeconds +
    settings.requeueSeconds +
    settings.jobBoundSeconds * (1 + batches);
  const jobDeadline = quietAt + jobDeadlineS * 1000;
  // A delivery held by a dispatcher that died comes back after the dispatcher's visibility
  // timeout; an end never announced is announced by a sweeper one visibility timeout later.
  // Each job's bound runs from its completion, so that this wait overlaps the one above.
  // Under faults the dispatcher's own receive may stall once on top (the long-poll deadline),
  // and a receive whose response is lost (a reset after moto handed the message out) hides the
  // message for one more visibility timeout, which can befall one message twice in a run (at
  // 15% faulted calls), so the bound allows for two.
  const webhookDeadlineS =
    2 * DISPATCHER_VISIBILITY_SECONDS +
    settings.receiveStallSeconds +
    settings.sweepSeconds +
    settings.sweeperVisibilitySeconds +
    10;
  const completedAt = (view: GenerationView | undefined) =>
    Math.max(Date.parse(view?.timings?.completed_at ?? '') || 0, quietAt - 60_000);
  const missingHook = () =>
    accepted.filter((s) => {
      const view = views.get(s.id ?? '');
      return (
        s.spec.webhook &&
        TERMINAL.has(view?.status ?? '') &&
        ledger.terminalEvents(s.id ?? '').length === 0
      );
    });
  const waiting = () =>
    (pending().length > 0 && Date.now() < jobDeadline) ||
    missingHook().some(
      (s) => Date.now() < completedAt(views.get(s.id ?? '')) + webhookDeadlineS * 1000,
    );
  let allTerminalAt = pending().length === 0 ? Date.now() : undefined;
  // What was not terminal when the jobs deadline passed (a later end is still too late): taken
  // from the first reading that started after it.
  const snapshot = () => new Map(pending().map((s) => [s.id ?? '', views.get(s.id ?? '')?.status]));
  let atDeadline: Map<string, string | undefined> | undefined;
  while (waiting()) {
    await sleep(1000);
    const started = Date.now();
    if (pending().length > 0) await readPending();
    if (allTerminalAt === undefined && pending().length === 0) allTerminalAt = Date.now();
    if (!atDeadline && started >= jobDeadline) atDeadline = snapshot();
  }
  atDeadline ??= snapshot();
  const hooksDoneAt = missingHook().length === 0 ? Date.now() : undefined;
  // A short quiet window for late duplicates or contradicting events.
  const quietWindowMs = 3000;
  const quietUntil = Date.now() + 3 * quietWindowMs;
  while (Date.now() - ledger.lastArrival() < quietWindowMs && Date.now() < quietUntil) {
    await sleep(250);
  }
  ctx.log(`settled at ${elapsed().toFixed(1)} s; checking`);

  // Final reads through the API: every accepted id, and the list.
  const finals = new Map<string, { http: number; view?: GenerationView | undefined }>();
  for (const s of accepted) {
    const res = await getView(client, s.id ?? '');
    finals.set(s.id ?? '', {
      http: res?.status ?? 0,
      view: res?.status === 200 ? res.body : undefined,
    });
  }
  const listed = new Set<string>();
  try {
    let cursor: string | undefined;
    do {
      const res = await client.request<{ data: GenerationView[]; next_cursor?: string }>(
        'GET',
        `/v1/generations?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      for (const v of res.body.data) listed.add(v.id);
      cursor = res.body.next_cursor;
    } while (cursor);
  } catch {
    // A list that never answered is reported through the 'listed' check below.
  }
  // Replays of a sample of the submits: the same key and body must name the same job.
  for (const s of accepted.filter((_, i) => i % 4 === 0)) {
    try {
      const res = await client.request<GenerationView>('POST', '/v1/generations', {
        body: s.spec.body,
        headers: { 'idempotency-key': s.spec.key },
      });
      if (typeof res.body.id === 'string') s.ids.add(res.body.id);
    } catch {
      // Nothing to compare.
    }
  }

  // The checks.
  const workerLines = ctx.workerLinePrefixes.flatMap((prefix) => group.linesOf(prefix));
  const startsOf = (id: string) =>
    workerLines.filter((l) => l.line.type === 'job_started' && l.line.jobId === id).length;
  /** Worker processes (starts of one) that printed job_started for the job. */
  const startersOf = (id: string) =>
    new Set(
      workerLines
        .filter((l) => l.line.type === 'job_started' && l.line.jobId === id)
        .map((l) => l.process),
    ).size;
  /**
   * Worker kills that may have cut off a job_started line of the job: of a process that printed
   * none for it, while the job was open. A claim's write lands before its line, and a batch
   * claims several jobs at once, so a kill right after one job's line can leave another job
   * charged an attempt that no line shows.
   */
  const silentKillsOf = (id: string, acceptedAt: number) => {
    const printed = new Set(
      workerLines
        .filter((l) => l.line.type === 'job_started' && l.line.jobId === id)
        .map((l) => l.process),
    );
    const end =
      workerLines.find((l) => l.line.type === 'job_finished' && l.line.jobId === id)?.at ??
      Infinity;
    return workerKills.filter((k) => {
      const at = ctx.t0 + k.atS * 1000;
      return !printed.has(k.victim) && at >= acceptedAt && at <= end;
    }).length;
  };
  /** Processes that printed progress for the job: it ran there (serve logs no progress). */
  const runsOf = (id: string) =>
    new Set(
      workerLines
        .filter((l) => l.line.type === 'job_progress' && l.line.jobId === id)
        .map((l) => l.process),
    ).size;
  const failures: Failure[] = [];
  const fail = (check: string, message: string, jobId?: string) => {
    failures.push({ check, jobId, message });
  };
  for (const s of subs) {
    if (s.outcome === 'rejected') {
      fail(
        'submit_accepted',
        `submit #${s.spec.index} answered ${s.rejection?.status}: ${JSON.stringify(s.rejection?.body).slice(0, 300)}`,
      );
    } else if (s.outcome !== 'accepted') {
      fail(
        'submit_accepted',
        `submit #${s.spec.index} ${s.outcome} after ${JSON.stringify(s.history)}`,
      );
    }
    if (s.ids.size > 1) {
      fail('one_job_per_key', `key ${s.spec.key} named ${[...s.ids].join(', ')}`, s.id);
    }
  }
  const counts: Record<string, number> = {};
  const failedCodes: Record<string, number> = {};
  for (const s of accepted) {
    const id = s.id ?? '';
    const final = finals.get(id);
    const view = final?.view;
    if (final?.http === 404) {
      fail('lost', `accepted job ${id} does not exist (404)`, id);
      continue;
    }
    if (!view) {
      fail('lost', `accepted job ${id} could not be read (HTTP ${final?.http})`, id);
      continue;
    }
    counts[view.status] = (counts[view.status] ?? 0) + 1;
    if (view.status === 'failed' || view.status === 'expired') {
      const code = view.error?.code ?? '(none)';
      failedCodes[code] = (failedCodes[code] ?? 0) + 1;
    }
    if (!TERMINAL.has(view.status) || atDeadline.has(id)) {
      const then = atDeadline.get(id) ?? view.status;
      fail(
        'stuck',
        `job ${id} still ${then} ${jobDeadlineS} s after quiet (deadline from settings)` +
          (then === view.status ? '' : `; ${view.status} when read again after the deadline`),
        id,
      );
    }
    if (!listed.has(id)) fail('listed', `job ${id} is missing from GET /v1/generations`, id);
    const starts = startsOf(id);
    if (view.status === 'failed' || view.status === 'expired') {
      const code = view.error?.code ?? '(none)';
      const silent = code === 'worker_lost' ? silentKillsOf(id, s.acceptedAt ?? ctx.t0) : 0;
      if (code === 'worker_lost' && starts + silent < settings.maxAttempts) {
        fail(
          'worker_lost_attempts',
          `job ${id} failed worker_lost after ${starts} job_started line(s) and ${silent} kill(s) that could have cut one off (< maxAttempts ${settings.maxAttempts})`,
          id,
        );
      } else if (code === 'worker_lost' && startersOf(id) + silent < settings.maxAttempts) {
        // Each start that "no worker finished" needs a worker that went away: starts repeated
        // inside one process (duplicate messages claimed twice) are not lost workers.
        fail(
          'worker_lost_processes',
          `job ${id} failed worker_lost; its ${starts} job_started lines came from ${startersOf(id)} process(es), with ${silent} silent kill(s) (< maxAttempts ${settings.maxAttempts})`,
          id,
        );
      }
      // Every request here is valid: only the infrastructure can fail a job, and a client may
      // always submit such a job again.
      if (view.error?.retryable !== true) {
        fail(
          'failed_retryable',
          `job ${id} ${view.status} with ${code}, retryable ${String(view.error?.retryable)}`,
          id,
        );
      }
    }
    if (view.status === 'succeeded' && view.outputs?.length !== s.spec.numImages) {
      fail(
        'succeeded_outputs',
        `job ${id} succeeded with ${view.outputs?.length ?? 0} outputs, asked ${s.spec.numImages}`,
        id,
      );
    }
    if (s.cancel?.outcome === 'canceled' && view.status !== 'canceled') {
      fail('cancel_consistent', `job ${id} was answered canceled, now ${view.status}`, id);
    }
    if (s.spec.webhook && TERMINAL.has(view.status)) {
      const terminal = ledger.terminalEvents(id);
      const want = expectedEventType(view.status);
      if (terminal.length === 0) {
        fail('webhook_terminal', `job ${id} (${view.status}) got no terminal webhook`, id);
      } else if (terminal.length > 1) {
        fail(
          'webhook_terminal',
          `job ${id} (${view.status}) got ${terminal.length} distinct terminal events: ${terminal.map((e) => e.type).join(', ')}`,
          id,
        );
      } else if (terminal[0]?.type !== want || terminal[0].status !== view.status) {
        fail(
          'webhook_terminal',
          `job ${id} is ${view.status} but its terminal webhook was ${terminal[0]?.type} (data.status ${terminal[0]?.status})`,
          id,
        );
      } else if (terminal[0].at > completedAt(view) + webhookDeadlineS * 1000) {
        const late = (terminal[0].at - completedAt(view)) / 1000;
        fail(
          'webhook_terminal',
          `job ${id} (${view.status}): its terminal webhook came ${late.toFixed(1)} s after the end, past the ${webhookDeadlineS} s deadline`,
          id,
        );
      }
    }
  }
  if (ledger.invalid.length > 0) {
    fail(
      'signatures',
      `${ledger.invalid.length} deliveries failed verification: ${ledger.invalid[0]?.reason}`,
    );
  }

  // Jobs worth a look even when no check failed: failed ones, ones started more than once.
  const notable = new Set<string>();
  for (const s of accepted) {
    const id = s.id ?? '';
    const status = finals.get(id)?.view?.status;
    if (status === 'failed' || status === 'expired' || startsOf(id) > 1) notable.add(id);
  }
  // Attempts the records charged beyond the job_started lines seen (informational: a kill
  // between the claim's write and its log line also makes one).
  let chargedBeyondStarts = 0;
  for (const s of accepted) {
    const record = (await ctx.readRecord(s.id ?? '').catch(() => undefined)) as
      { attempts?: number } | undefined;
    if ((record?.attempts ?? 0) > startsOf(s.id ?? '')) {
      chargedBeyondStarts += 1;
      notable.add(s.id ?? '');
    }
  }
  // Details of every job a check named (and of the notable ones).
  const details: Record<string, unknown> = {};
  const t0 = ctx.t0;
  const named = failures.flatMap((f) => (f.jobId ? [f.jobId] : []));
  for (const id of new Set([...named, ...notable])) {
    const s = accepted.find((x) => x.id === id);
    const hooks = ledger.job(id);
    details[id] = {
      checks: failures.filter((f) => f.jobId === id).map((f) => f.check),
      spec: s && {
        index: s.spec.index,
        steps: s.spec.body.steps,
        numImages: s.spec.numImages,
        webhook: s.spec.webhook,
        cancel: s.spec.cancel,
      },
      submit: s && { history: s.history, acceptedAtS: ((s.acceptedAt ?? t0) - t0) / 1000 },
      cancel: s?.cancel,
      view: compactView(finals.get(id)?.view),
      record: await ctx.readRecord(id).catch((error: unknown) => `unreadable: ${String(error)}`),
      workerLines: workerLines
        .filter((l) => l.line.jobId === id && l.line.type !== 'job_progress')
        .map(
          (l) =>
            `+${((l.at - t0) / 1000).toFixed(1)}s ${l.process} ${l.line.type ?? l.line.message ?? ''}` +
            (l.line.attempt !== undefined ? ` attempt=${l.line.attempt}` : '') +
            `${l.line.status ? ` ${l.line.status}` : ''}${l.line.reason ? ` (${l.line.reason})` : ''}`,
        ),
      progressLines: Object.fromEntries(
        workerLines
          .filter((l) => l.line.jobId === id && l.line.type === 'job_progress')
          .reduce(
            (m, l) => m.set(l.process, (m.get(l.process) ?? 0) + 1),
            new Map<string, number>(),
          ),
      ),
      webhooks: hooks.events.map((e) => ({
        type: e.type,
        status: e.status,
        atS: (e.at - t0) / 1000,
        duplicates: e.duplicates,
      })),
    };
  }
  const workerErrors = workerLines
    .filter((l) => l.line.type === 'error')
    .map((l) => `${l.process}: ${l.line.message ?? ''}: ${(l.line.error ?? '').slice(0, 160)}`);

  const sweeps = { passes: 0, requeued: 0, ended: 0, settled: 0, dropped: 0 };
  for (const l of workerLines) {
    if (l.line.type !== 'sweep') continue;
    sweeps.passes += 1;
    for (const k of ['requeued', 'ended', 'settled', 'dropped'] as const) {
      const n = l.line[k];
      if (typeof n === 'number') sweeps[k] += n;
    }
  }
  const allKills = [...workerKills, ...serverKills];
  const byMode: Record<string, number> = {};
  for (const k of allKills) byMode[k.mode] = (byMode[k.mode] ?? 0) + 1;
  const startsPerJob = accepted.map((s) => startsOf(s.id ?? ''));
  const workerLost = accepted
    .filter((s) => finals.get(s.id ?? '')?.view?.error?.code === 'worker_lost')
    .map((s) => ({
      id: s.id,
      startLines: startsOf(s.id ?? ''),
      runsWithProgress: runsOf(s.id ?? ''),
    }));
  const hookTotals = ledger.totals();
  const faults = ctx.faults?.();
  const checkNames = [
    'submit_accepted',
    'one_job_per_key',
    'lost',
    'stuck',
    'listed',
    'webhook_terminal',
    'worker_lost_attempts',
    'worker_lost_processes',
    'failed_retryable',
    'succeeded_outputs',
    'cancel_consistent',
    'signatures',
  ];
  const summary = {
    scenario: ctx.name,
    seed: size.seed,
    size: { jobs: size.jobs, workerKills: size.workerKills, serverRestarts: size.serverRestarts },
    jobs: {
      planned: subs.length,
      accepted: accepted.length,
      succeeded: counts.succeeded ?? 0,
      failed: counts.failed ?? 0,
      canceled: counts.canceled ?? 0,
      expired: counts.expired ?? 0,
      nonTerminal:
        accepted.length -
        ['succeeded', 'failed', 'canceled', 'expired'].reduce((n, k) => n + (counts[k] ?? 0), 0),
      withWebhook: accepted.filter((s) => s.spec.webhook).length,
      failedCodes,
      cancels: subs.reduce<Record<string, number>>((acc, s) => {
        if (s.cancel) acc[s.cancel.outcome] = (acc[s.cancel.outcome] ?? 0) + 1;
        return acc;
      }, {}),
      images: accepted.reduce((n, s) => n + s.spec.numImages, 0),
    },
    kills: {
      total: allKills.length,
      workers: workerKills.length,
      server: serverKills.length,
      byMode,
      fellBack: allKills.filter((k) => k.fellBack).length,
      list: allKills
        .sort((a, b) => a.atS - b.atS)
        .map(
          (k) =>
            `${k.atS.toFixed(1)}s ${k.victim} ${k.mode}${k.fellBack ? ' (fell back)' : ''}${k.jobId ? ` ${k.jobId}` : ''}`,
        ),
    },
    starts: {
      total: startsPerJob.reduce((a, b) => a + b, 0),
      jobsStartedMoreThanOnce: startsPerJob.filter((n) => n > 1).length,
      maxPerJob: Math.max(0, ...startsPerJob),
      jobsWithMoreAttemptsThanStarts: chargedBeyondStarts,
      workerLost,
    },
    faults: faults && {
      requests: faults.requests,
      faulted: faults.faulted,
      byKind: faults.byKind,
      upstreamErrors: faults.upstreamErrors,
      byOperation: Object.fromEntries(
        Object.entries(faults.byOperation).map(([op, o]) => [
          op,
          `${o.requests} req, ${Object.values(o.faults).reduce((a, b) => a + b, 0)} faulted`,
        ]),
      ),
    },
    webhooks: {
      ...hookTotals,
      jobsMissingTerminal: failures.filter(
        (f) => f.check === 'webhook_terminal' && f.message.includes('no terminal'),
      ).length,
    },
    sweeps,
    stuck: failures.filter((f) => f.check === 'stuck').length,
    lost: failures.filter((f) => f.check === 'lost').length,
    nonTerminalAtQuiet,
    settings,
    deadlines: { jobsS: jobDeadlineS, webhooksS: webhookDeadlineS },
    timeToSettleS:
      allTerminalAt !== undefined && hooksDoneAt !== undefined
        ? Math.round((Math.max(allTerminalAt, hooksDoneAt) - quietAt) / 100) / 10
        : null,
    timeToAllTerminalS:
      allTerminalAt !== undefined ? Math.round((allTerminalAt - quietAt) / 100) / 10 : null,
    runS: Math.round((Date.now() - ctx.t0) / 100) / 10,
    clientAttempts: client.attempts,
    workerErrors: workerErrors.length,
    checks: Object.fromEntries(
      checkNames.map((c) => {
        const n = failures.filter((f) => f.check === c).length;
        return [c, n === 0 ? 'pass' : `FAIL (${n})`];
      }),
    ),
  };
  return {
    summary: summary as unknown as Record<string, unknown>,
    failures,
    details: { ...details, workerErrors: workerErrors.slice(0, 40) },
  };
}

interface StoredRecord {
  readonly status?: string;
  readonly version?: number;
  readonly startedAt?: string;
  readonly completedAt?: string;
  readonly data?: {
    readonly attempts?: number;
    readonly leaseUntil?: string;
    readonly cancelRequested?: boolean;
    readonly error?: unknown;
    readonly outputs?: readonly unknown[];
    readonly progress?: unknown;
  };
}

/** The parts of a stored job record that explain a failure (not its parameters). */
export function compactRecord(record: unknown): unknown {
  const r = record as StoredRecord;
  return {
    status: r.status,
    version: r.version,
    attempts: r.data?.attempts,
    leaseUntil: r.data?.leaseUntil,
    cancelRequested: r.data?.cancelRequested,
    progress: r.data?.progress,
    error: r.data?.error,
    outputs: r.data?.outputs?.length,
    startedAt: r.startedAt,
    completedAt: r.completedAt,
  };
}

/** Prints the summary (and the details when something failed); RELIABILITY_REPORT_DIR keeps them. */
export async function publish(report: ScenarioReport): Promise<string> {
  const name = String(report.summary.scenario);
  const text = JSON.stringify(report.summary, null, 2);
  process.stdout.write(`\n[reliability] ${name} summary:\n${text}\n`);
  if (report.failures.length > 0) {
    process.stdout.write(
      `[reliability] ${name} failures:\n${report.failures.map((f) => `  ${f.check}: ${f.message}`).join('\n')}\n` +
        `[reliability] ${name} details:\n${JSON.stringify(report.details, null, 2)}\n`,
    );
  }
  const dir = process.env.RELIABILITY_REPORT_DIR;
  if (dir) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.json`), JSON.stringify(report, null, 2));
  }
  return text;
}

/** The assertion message: each failure, then the details of at most 8 failing jobs. */
export function failureMessage(report: ScenarioReport): string {
  const lines = report.failures.map((f) => `${f.check}: ${f.message}`);
  const failing = new Set(report.failures.flatMap((f) => (f.jobId ? [f.jobId] : [])));
  const ids = [...failing].slice(0, 8);
  const some = Object.fromEntries(ids.map((id) => [id, report.details[id]]));
  return `${report.failures.length} check failure(s)\n${lines.join('\n')}\n${JSON.stringify(some, null, 2)}`;
}
