import type { GenerationTimings } from '../../../core/generation.ts';

/**
 * The worker's lifecycle (as Cog's): starting → ready ⇄ busy → draining → stopped. Only `ready`
 * and `busy` take work; `draining` finishes or hands back what it holds and takes nothing new.
 */
export type WorkerState = 'starting' | 'ready' | 'busy' | 'draining' | 'stopped';

/** What the worker tells its observers (logs, metrics, tests): tagged, one shape per kind. */
export type WorkerEvent =
  | { readonly type: 'state'; readonly state: WorkerState }
  | { readonly type: 'job_started'; readonly jobId: string; readonly attempt: number }
  | {
      readonly type: 'job_progress';
      readonly jobId: string;
      readonly step: number;
      readonly total: number;
    }
  | {
      readonly type: 'job_finished';
      readonly jobId: string;
      readonly status: 'succeeded' | 'failed' | 'canceled' | 'expired';
      readonly timings: JobTimingsMs;
    }
  | { readonly type: 'job_released'; readonly jobId: string; readonly reason: string }
  | { readonly type: 'message_skipped'; readonly jobId: string; readonly reason: string }
  | {
      readonly type: 'sweep';
      readonly checked: number;
      readonly requeued: number;
      readonly ended: number;
      readonly settled: number;
      readonly dropped: number;
    }
  | { readonly type: 'error'; readonly message: string; readonly error: unknown };

/** The job record's timings, as the worker reports them. */
export type JobTimingsMs = GenerationTimings;

export type WorkerListener = (event: WorkerEvent) => void;
