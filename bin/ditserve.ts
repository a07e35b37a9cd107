import { UsageError } from '../core/config.ts';
import { generateCommand } from './cli/generate-command.ts';
import { jobsCommand } from './cli/jobs-command.ts';
import { keysCommand } from './cli/keys-command.ts';
import { modelsCommand } from './cli/models-command.ts';
import { packageVersion } from './cli/package-paths.ts';
import { exitCodeOf, report } from './cli/report-error.ts';
import { serveCommand } from './cli/serve-command.ts';
import { workerCommand } from './cli/worker-command.ts';

const HELP = `Usage: ditserve <command> [options]

Commands:
  generate <prompt>   generate images from a text prompt, here or on a running ditserve
  jobs                list, get, cancel and watch generations of a running ditserve
  models              the models a running ditserve serves
  serve               run API + worker + webhooks locally, or the API against a stack (--backend aws)
  worker              run the worker alone (what the GPU container runs), on any backend
  keys                create, list and revoke API keys
  <command> --help    that command's options

Options:
  -V, --version       print the version

Exit codes: 0 success, 1 runtime error, 2 usage error or refused request,
            3 the generation ended without images (failed, canceled, expired).
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'generate':
      return generateCommand(rest);
    case 'jobs':
      return jobsCommand(rest);
    case 'models':
      return modelsCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case '-V':
    case '--version':
      process.stdout.write(`ditserve ${packageVersion()}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}" (try: ditserve --help)`);
  }
}

const argv = process.argv.slice(2);
process.exitCode = await main(argv).catch((error: unknown) => {
  report(error, argv.includes('--json'));
  return exitCodeOf(error);
});
