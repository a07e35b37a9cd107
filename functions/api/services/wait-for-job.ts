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
