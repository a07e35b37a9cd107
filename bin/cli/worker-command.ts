import { SETTINGS, type SettingName } from '../../core/settings.ts';
import { UsageError } from '../../core/config.ts';
import { helpLines } from './settings-help.ts';

const WORKER_SETTINGS = (Object.keys(SETTINGS) as SettingName[]).filter((name) =>
  (SETTINGS[name].readBy as readonly string[]).includes('worker'),
);

export const WORKER_HELP = `Usage: ditserve worker

Runs the worker alone: polls the queue, samples on the model, writes outputs, updates jobs and
emits webhook events. It is what the GPU container runs (the same entry as its CMD); with
DITSERVE_BACKEND=local it works on a data folder that \`ditserve serve\` shares.

Settings (environment variables; docs/settings.md lists them all):
${helpLines(WORKER_SETTINGS)}
`;

/** `ditserve worker`: the worker entry, configured by the environment as in the container. */
export async function workerCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(WORKER_HELP);
    return 0;
  }
  if (argv.length > 0) {
    throw new UsageError(
      `ditserve worker takes no options, got "${argv.join(' ')}": it reads the environment`,
    );
  }
  // The entry runs itself and exits the process when it stops (drained, or failed to start).
  await import('../../gpu-worker/src/worker/main.ts');
  return new Promise<number>(() => undefined);
}
