import type { SweepDeps, SweepReport, SweepSettings } from '../../core/jobs/sweep.ts';
import { sweep } from '../../core/jobs/sweep.ts';

export interface SweepSummary extends Omit<SweepReport, 'errors'> {
  readonly errors: number;
}

/**
 * The scheduled sweeper: one pass per invocation (EventBridge, every minute). Jobs it could not
 * check are logged and counted, not thrown: the next pass tries them again, and a throw would
 * only make Lambda retry the whole pass at once.
 */
export function createSweepHandler(
  deps: SweepDeps,
  settings: SweepSettings,
  log: (message: string, fields: Record<string, unknown>) => void = (message, fields) => {
    console.log(JSON.stringify({ message, ...fields }));
  },
): () => Promise<SweepSummary> {
  return async function sweepHandler() {
    const report = await sweep(deps, settings);
    for (const e of report.errors)
      log('sweeping a job failed', { jobId: e.jobId, error: String(e.error) });
    const summary = { ...report, errors: report.errors.length };
    log('sweep', { ...summary });
    return summary;
  };
}
