import { sweep, type SweepDeps, type SweepSettings } from '../../../core/jobs/sweep.ts';
import type { WorkerListener } from './state.ts';

export interface SweeperLoop {
  /** Waits for a pass in progress, then stops. */
  stop(): Promise<void>;
}

/**
 * Runs the sweeper every `periodSeconds` next to a worker (the stack also runs it as a scheduled
 * Lambda; several sweepers at once are safe). The first pass waits one period, so a fleet that
 * starts together does not sweep together.
 */
export function startSweeper(
  deps: SweepDeps,
  settings: SweepSettings,
  periodSeconds: number,
  onEvent: WorkerListener,
): SweeperLoop {
  let pass: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pass = pass.then(async () => {
      try {
        const report = await sweep(deps, settings);
        const { errors, ...counts } = report;
        if (counts.requeued + counts.ended + counts.settled + counts.dropped > 0) {
          onEvent({ type: 'sweep', ...counts });
        }
        for (const e of errors) {
          onEvent({ type: 'error', message: `sweeping ${e.jobId} failed`, error: e.error });
        }
      } catch (error) {
        onEvent({ type: 'error', message: 'sweep failed', error });
      }
    });
  }, periodSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pass;
    },
  };
}
