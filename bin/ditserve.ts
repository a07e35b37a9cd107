import { isDitserveError } from '../core/errors.ts';
import { InvalidRequestError } from '../gpu-worker/src/sampler/index.ts';
import { generateCommand } from './cli/generate-command.ts';
import { keysCommand } from './cli/keys-command.ts';
import { serveCommand } from './cli/serve-command.ts';
import { ConfigError, UsageError } from '../core/config.ts';

const HELP = `Usage: ditserve <command> [options]

Commands:
  generate <prompt>   generate an image from a text prompt (ditserve generate --help)
  serve               run API + worker + webhooks locally (ditserve serve --help)
  keys                create, list and revoke API keys (ditserve keys --help)

Exit codes: 0 success, 1 runtime error, 2 usage error.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'generate':
      return generateCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'keys':
      return keysCommand(rest);
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

/**
 * Mistakes in the command line, a setting or the request (UsageError, ConfigError,
 * InvalidRequestError) exit with 2,
 * other errors that ditserve raises on purpose with 1; neither prints a stack trace. Anything
 * else is a bug: its stack is printed.
 */
function report(error: unknown, json: boolean): number {
  const usage =
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof InvalidRequestError;
  if (isDitserveError(error)) {
    process.stderr.write(`ditserve: ${error.message}\n`);
    if (json) {
      process.stdout.write(
        JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n',
      );
    }
    return usage ? 2 : 1;
  }
  process.stderr.write(
    `ditserve: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}

const argv = process.argv.slice(2);
process.exitCode = await main(argv).catch((error: unknown) =>
  report(error, argv.includes('--json')),
);
