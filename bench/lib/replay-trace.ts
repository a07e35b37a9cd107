/**
 * Replays an arrival trace against a running ditserve: each job is POSTed at its arrival time
 * (not after the previous answer: the load is open-loop), and its latency runs from just before
 * its POST to the worker's report that it ended. Meanwhile the main thread's event-loop delay
 * is sampled, which is what heartbeats, progress writes and HTTP answers wait for.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkerEvent } from '../../gpu-worker/src/worker/state.ts';
import type { TraceJob } from './arrival-trace.ts';
import { quantile, round } from './stats.ts';

type Ended = Extract<WorkerEvent, { type: 'job_finished' }>['status'];

/** The jobs' ends as the worker reports them (its onEvent), by job id. */
export class JobEnds {
  readonly #ends = new Map<string, { readonly atMs: number; readonly status: Ended }>();
  readonly #waiters = new Set<() => void>();

  readonly onWorkerEvent = (event: WorkerEvent): void => {
    if (event.type !== 'job_finished') return;
    this.#ends.set(event.jobId, { atMs: performance.now(), status: event.status });
    for (const wake of [...this.#waiters]) wake();
  };

  get(id: string) {
    return this.#ends.get(id);
  }

  /** Resolves once every job in `ids` has ended, or at `deadlineMs` (performance.now()). */
  async all(ids: readonly string[], deadlineMs: number): Promise<void> {
    while (ids.some((id) => !this.#ends.has(id))) {
      const left = deadlineMs - performance.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }
}

export interface ReplayResult {
  readonly jobs: number;
  /** Jobs that succeeded before the deadline. */
  readonly completed: number;
  /** Jobs that ended otherwise (failed, canceled, expired) or not before the deadline. */
  readonly notCompleted: number;
  readonly images: number;
  /** From the first arrival to the last job's end. */
  readonly wallS: number;
  /** Images of completed jobs over the wall time. */
  readonly imagesPerSecond: number;
  /** Submit → succeeded, over completed jobs. */
  readonly latencyP50S: number;
  readonly latencyP90S: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
}

/**
 * The monitor's timer period. A sample is the whole interval between two turns of its timer, so
 * an idle loop reads the period itself: at 10 ms (before 2026-12-02) every figure carried ~10 ms
 * that no job waited for; at 1 ms, as in the other benches, it carries ~1 ms. The sampler works
 * on its own thread, so the 1 kHz timer costs the main thread, not the sampler.
 */
export const EVENT_LOOP_RESOLUTION_MS = 1;

async function submit(url: string, job: TraceJob): Promise<{ id: string; atMs: number }> {
  const atMs = performance.now();
  const response = await fetch(`${url}/v1/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job.body),
  });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${text}`);
  return { id: (JSON.parse(text) as { id: string }).id, atMs };
}

export async function replay(
  url: string,
  trace: readonly TraceJob[],
  ends: JobEnds,
  timeoutMs: number,
): Promise<ReplayResult> {
  const monitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  monitor.enable();
  const start = performance.now();
  const submitted: Promise<{ id: string; atMs: number }>[] = [];
  for (const job of trace) {
    const wait = start + job.atMs - performance.now();
    if (wait > 0) await sleep(wait);
    submitted.push(submit(url, job));
  }
  const jobs = await Promise.all(submitted);
  await ends.all(
    jobs.map((j) => j.id),
    start + timeoutMs,
  );
  monitor.disable();

  const latencies: number[] = [];
  let images = 0;
  let lastEnd = start;
  jobs.forEach((j, i) => {
    const end = ends.get(j.id);
    if (end?.status !== 'succeeded') return;
    latencies.push((end.atMs - j.atMs) / 1000);
    images += trace[i]?.body.num_images ?? 0;
    lastEnd = Math.max(lastEnd, end.atMs);
  });
  const wallS = (lastEnd - start) / 1000;
  return {
    jobs: jobs.length,
    completed: latencies.length,
    notCompleted: jobs.length - latencies.length,
    images,
    wallS: round(wallS, 2),
    imagesPerSecond: round(wallS > 0 ? images / wallS : 0, 3),
    latencyP50S: round(quantile(latencies, 0.5), 2),
    latencyP90S: round(quantile(latencies, 0.9), 2),
    eventLoopDelayP99Ms: round(monitor.percentile(99) / 1e6, 1),
    eventLoopDelayMaxMs: round(monitor.max / 1e6, 1),
  };
}
