import { setTimeout as sleep } from 'node:timers/promises';
import type { GenerationData, GenerationJob } from '../../../core/generation.ts';
import { isTerminal } from '../../../core/job.ts';
import type { JobStore } from '../../../core/ports/job-store.ts';

/**
 * Re-reads a job every `intervalMs` and yields each version that differs from the last (status,
 * progress or outputs), ending after a terminal one, at the deadline, or when `signal` aborts.
 * Polling the store keeps SSE and `Prefer: wait` working unchanged on Lambda and locally.
 */
export async function* watchJob(
  jobs: JobStore,
  tenant: string,
  id: string,
  options: { intervalMs: number; deadline: number; signal?: AbortSignal | undefined },
): AsyncGenerator<GenerationJob> {
  let lastVersion = -1;
  for (;;) {
    const job = await jobs.get<GenerationData>(tenant, id);
    if (job.version !== lastVersion) {
      lastVersion = job.version;
      yield job;
    }
    if (isTerminal(job.status) || Date.now() >= options.deadline || options.signal?.aborted) return;
    const wait = Math.min(options.intervalMs, Math.max(0, options.deadline - Date.now()));
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      return;
    }
  }
}

/**
 * What ends a wait or stream early: the client going away, or the server shutting down (so the
 * client gets a last answer rather than a cut connection). `release()` detaches it from both
 * once the wait is over, so the server's long-lived shutdown signal does not collect a listener
 * per request.
 */
export function waitSignal(
  request: AbortSignal,
  shutdown: AbortSignal | undefined,
): { readonly signal: AbortSignal; release(): void } {
  if (!shutdown) return { signal: request, release: () => undefined };
  const controller = new AbortController();
  const abort = () => {
    controller.abort();
  };
  if (request.aborted || shutdown.aborted) controller.abort();
  request.addEventListener('abort', abort, { once: true });
  shutdown.addEventListener('abort', abort, { once: true });
  return {
    signal: controller.signal,
    release() {
      request.removeEventListener('abort', abort);
      shutdown.removeEventListener('abort', abort);
    },
  };
}

/** The job once terminal, or its latest state when the deadline passes first. */
export async function waitForJob(
  jobs: JobStore,
  tenant: string,
  id: string,
  options: { intervalMs: number; deadline: number; signal?: AbortSignal | undefined },
): Promise<GenerationJob> {
  let last: GenerationJob | undefined;
  for await (const job of watchJob(jobs, tenant, id, options)) last = job;
  return last ?? (await jobs.get<GenerationData>(tenant, id));
}
