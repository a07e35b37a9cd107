import { parseArgs } from 'node:util';
import { UsageError } from '../../core/config.ts';
import type { Generation, GenerationStatus } from '../../sdk/client/index.ts';
import { GenerationFailedError } from '../../sdk/client/index.ts';
import { ProgressBar } from './progress-bar.ts';
import { clientFor } from './remote-client.ts';
import { REMOTE_HELP, REMOTE_OPTIONS } from './remote-options.ts';

export const JOBS_HELP = `Usage: ditserve jobs <list|get|cancel|watch> [options]

  jobs list [--status <s>] [--limit <n>]   your generations, newest first (all pages up to --limit)
  jobs get <id>                           one generation
  jobs cancel <id>                        cancel it (at once when queued, at the next step when running)
  jobs watch <id>                         follow it to its end with a progress bar

Options:
${REMOTE_HELP}
      --json               print JSON on stdout
  -h, --help               show this help

Exit codes: 0 success, 1 runtime error, 2 usage error or refused request,
            3 (watch) the generation ended without images.
`;

function line(g: Generation): string {
  const progress = g.progress ? ` ${g.progress.step}/${g.progress.total}` : '';
  return `${g.id}  ${g.status.padEnd(9)}${progress}  ${g.timings.created_at}  ${JSON.stringify(g.input.prompt)}`;
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text + '\n');
}

function idOf(positionals: readonly string[], verb: string): string {
  const id = positionals[1];
  if (!id) throw new UsageError(`missing id: ditserve jobs ${verb} <gen_…>`);
  return id;
}

/** `ditserve jobs …`: the generations of a running ditserve, through the typed client. */
export async function jobsCommand(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        status: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...REMOTE_OPTIONS,
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (try: ditserve jobs --help)`);
  }
  const { values: v, positionals } = parsed;
  const verb = positionals[0];
  if (v.help || verb === undefined) {
    process.stdout.write(JOBS_HELP);
    return v.help ? 0 : 2;
  }
  const client = clientFor(v);
  switch (verb) {
    case 'list': {
      const limit = v.limit === undefined ? 20 : Number(v.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) {
        throw new UsageError(`--limit must be an integer ≥ 1, got "${v.limit ?? ''}"`);
      }
      const found: Generation[] = [];
      const params = {
        limit: Math.min(limit, 100),
        ...(v.status === undefined ? {} : { status: v.status as GenerationStatus }),
      };
      for await (const page of client.list(params)) {
        found.push(...page.data);
        if (found.length >= limit) break;
      }
      const shown = found.slice(0, limit);
      print(v.json, shown, shown.map(line).join('\n') || '(no generations)');
      return 0;
    }
    case 'get': {
      const g = await client.get(idOf(positionals, verb));
      print(v.json, g, line(g));
      return 0;
    }
    case 'cancel': {
      const g = await client.cancel(idOf(positionals, verb));
      print(v.json, g, `${line(g)}${g.cancel_requested ? '  (cancel requested)' : ''}`);
      return 0;
    }
    case 'watch': {
      const bar = new ProgressBar(process.stderr);
      const started = performance.now();
      try {
        const g = await client.wait(idOf(positionals, verb), {
          onProgress: ({ generation }) => {
            const p = generation.progress;
            if (p) bar.update(p.step, p.total, performance.now() - started);
          },
        });
        bar.clear();
        print(v.json, g, line(g));
        return 0;
      } catch (error) {
        bar.clear();
        if (error instanceof GenerationFailedError)
          print(v.json, error.generation, line(error.generation));
        throw error;
      }
    }
    default:
      throw new UsageError(`unknown jobs command "${verb}" (try: ditserve jobs --help)`);
  }
}
