import { parseArgs } from 'node:util';
import { UsageError } from '../../core/config.ts';
import { clientFor } from './remote-client.ts';
import { REMOTE_HELP, REMOTE_OPTIONS } from './remote-options.ts';

export const MODELS_HELP = `Usage: ditserve models [options]

The models a running ditserve serves: id, sizes, default steps and guidance.

Options:
${REMOTE_HELP}
      --json               print JSON on stdout
  -h, --help               show this help
`;

export async function modelsCommand(argv: readonly string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...REMOTE_OPTIONS,
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (try: ditserve models --help)`);
  }
  if (v.help) {
    process.stdout.write(MODELS_HELP);
    return 0;
  }
  const models = await clientFor(v).models();
  if (v.json) {
    process.stdout.write(JSON.stringify(models, null, 2) + '\n');
    return 0;
  }
  for (const m of models) {
    const d = m.defaults;
    process.stdout.write(
      `${m.id}@${m.version}  sizes ${m.sizes.join(' ')}  ` +
        `default ${d.width}x${d.height}, ${d.steps} ${d.sampler} steps, guidance ${d.guidance_scale}\n`,
    );
  }
  return 0;
}
