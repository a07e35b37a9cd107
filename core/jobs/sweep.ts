import type { GenerationData, GenerationJob, JobMessage } from '../generation.ts';
import { isTerminal } from '../job.ts';
import { JobNotFoundError, type JobStore, type UnfinishedRef } from '../ports/job-store.ts';
import type { MessageQueue } from '../ports/message-queue.ts';
import { decideClaim } from './claim-decision.ts';
import { settle, type SettleDeps } from './settle.ts';
import { end, swept } from './transitions.ts';
import { updateJob } from './update-job.ts';

export interface SweepSettings {
  /** The jobs queue's visibility timeout, which is also how long a worker's lease lasts. */
  readonly visibilitySeconds: number;
  /** Starts of a job before it is failed (the workers' setting). */
  readonly maxAttempts: number;
  /**
   * A queued job waiting this long gets its message sent again (at most once per this period),
   * in case it never had one. A duplicate message is harmless: the claim is a conditional write,
   * so only one worker runs the job; the other message is dropped once the job has ended.
   */
  readonly requeueAfterSeconds: number;
}

export interface SweepDeps extends SettleDeps {
  readonly jobs: JobStore;
  readonly queue: Pick<MessageQueue<JobMessage>, 'send'>;
}

export interface SweepReport {
  readonly checked: number;
  /** Messages sent again for jobs that had none alive. */
  readonly requeued: number;
  /** Jobs the sweeper ended (expired, out of attempts, canceled while queued without a message). */
  readonly ended: number;
  /** Ended jobs whose end was announced here (the worker that ended them died first). */
  readonly settled: number;
  /** Index entries without a job (a create that failed half-way). */
  readonly dropped: number;
  readonly errors: readonly { readonly jobId: string; readonly error: unknown }[];
}

type Action = 'requeued' | 'ended' | 'settled' | 'dropped' | 'none';

const secondsSince = (iso: string | undefined, now: Date): number =>
  iso ? (now.getTime() - Date.parse(iso)) / 1000 : Number.POSITIVE_INFINITY;

/**
 * True when no message seems to be alive for the job. A running job's message comes back one
 * visibility timeout after its worker stopped renewing the lease, and is then taken over at
 * once; a queued job may wait behind a backlog, so it gets the longer `requeueAfterSeconds`.
 */
function looksAbandoned(job: GenerationJob, s: SweepSettings, now: Date): boolean {
  const since = (iso: string | undefined) => secondsSince(iso, now);
  if (job.status === 'queued') {
    return (
      since(job.data.sweptAt) > s.requeueAfterSeconds &&
      since(job.data.queuedAt ?? job.createdAt) > s.requeueAfterSeconds
    );
  }
  return (
    since(job.data.sweptAt) > s.visibilitySeconds &&
    since(job.data.leaseUntil) > s.visibilitySeconds
  );
}

async function sweepOne(
  deps: SweepDeps,
  s: SweepSettings,
  ref: UnfinishedRef,
  now: Date,
): Promise<Action> {
  let job: GenerationJob;
  try {
    job = await deps.jobs.get<GenerationData>(ref.tenant, ref.id);
  } catch (error) {
    if (!(error instanceof JobNotFoundError)) throw error;
    // The index entry is written just before the job: only an old one is garbage.
    if (secondsSince(ref.since, now) <= s.requeueAfterSeconds) return 'none';
    await deps.jobs.dropUnfinished(ref.tenant, ref.id);
    return 'dropped';
  }
  if (isTerminal(job.status)) {
    // Give the process that ended it one visibility timeout to announce it itself.
    if (secondsSince(job.completedAt, now) <= s.visibilitySeconds) return 'none';
    await settle(deps, job);
    return 'settled';
  }
  const decision = decideClaim(job, { now, maxAttempts: s.maxAttempts, serves: () => true });
  if (decision.kind === 'end' && (job.status === 'queued' || looksAbandoned(job, s, now))) {
    const ended = await updateJob(deps.jobs, job.tenant, job.id, (current) =>
      current.version === job.version
        ? end(current, decision.status, now, decision.error)
        : undefined,
    );
    if (!ended.changed) return 'none';
    await settle(deps, ended.job);
    return 'ended';
  }
  if (decision.kind === 'run' && looksAbandoned(job, s, now)) {
    // Stamp first: of several sweepers, only the one whose stamp lands sends.
    const stamped = await updateJob(deps.jobs, job.tenant, job.id, (current) =>
      current.version === job.version ? swept(current, now) : undefined,
    );
    if (!stamped.changed) return 'none';
    await deps.queue.send({ tenant: job.tenant, jobId: job.id });
    return 'requeued';
  }
  return 'none';
}

/**
 * One pass over the unfinished index: every job that lost its way (its message dead-lettered or
 * never sent, its worker gone, its end never announced) is sent again, ended, or announced.
 * Safe to run from several places at once (each worker process and the scheduled Lambda): every
 * change is a conditional write.
 */
export async function sweep(
  deps: SweepDeps,
  settings: SweepSettings,
  now: Date = new Date(),
): Promise<SweepReport> {
  const counts = { checked: 0, requeued: 0, ended: 0, settled: 0, dropped: 0 };
  const errors: { jobId: string; error: unknown }[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.jobs.listUnfinished({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const ref of page.refs) {
      counts.checked += 1;
      try {
        const action = await sweepOne(deps, settings, ref, now);
        if (action !== 'none') counts[action] += 1;
      } catch (error) {
        errors.push({ jobId: ref.id, error });
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { ...counts, errors };
}
