import { beforeAll, describe, expect, it } from 'vitest';
import { ditserve } from '../helpers/cli.ts';
import { makeApi } from '../api/harness.ts';

/**
 * One request schema: each bad input goes to the CLI (as flags) and to the API (as the JSON
 * body those flags mean), and both refuse it with the same code and the same field. Both use
 * the shipped model, so the model's own limits (sizes, steps, tokens) are checked alike too.
 */
const CASES: readonly {
  readonly name: string;
  readonly flags: readonly string[];
  readonly body: Readonly<Record<string, unknown>>;
}[] = [
  { name: 'an empty prompt', flags: [''], body: { prompt: '' } },
  { name: 'a blank prompt', flags: ['   '], body: { prompt: '   ' } },
  {
    name: 'a prompt longer than the model reads',
    flags: [Array.from({ length: 40 }, () => 'red').join(' ')],
    body: { prompt: Array.from({ length: 40 }, () => 'red').join(' ') },
  },
  {
    name: 'a size the model was not trained for',
    flags: ['a red circle', '--size', '256x256'],
    body: { prompt: 'a red circle', width: 256, height: 256 },
  },
  {
    name: 'a width without a height',
    flags: ['a red circle', '--width', '128'],
    body: { prompt: 'a red circle', width: 128 },
  },
  {
    name: 'more steps than the schema allows',
    flags: ['a red circle', '--steps', '250'],
    body: { prompt: 'a red circle', steps: 250 },
  },
  {
    name: 'more steps than the model allows',
    flags: ['a red circle', '--steps', '150'],
    body: { prompt: 'a red circle', steps: 150 },
  },
  {
    name: 'steps that are not a number',
    flags: ['a red circle', '--steps', 'abc'],
    body: { prompt: 'a red circle', steps: 'abc' },
  },
  {
    name: 'fractional steps',
    flags: ['a red circle', '--steps', '2.5'],
    body: { prompt: 'a red circle', steps: 2.5 },
  },
  {
    name: 'guidance above the limit',
    flags: ['a red circle', '--guidance', '99'],
    body: { prompt: 'a red circle', guidance_scale: 99 },
  },
  {
    name: 'an unknown sampler',
    flags: ['a red circle', '--sampler', 'ddim'],
    body: { prompt: 'a red circle', sampler: 'ddim' },
  },
  {
    name: 'a negative seed',
    flags: ['a red circle', '--seed=-1'],
    body: { prompt: 'a red circle', seed: -1 },
  },
  {
    name: 'too many images',
    flags: ['a red circle', '--n', '9'],
    body: { prompt: 'a red circle', num_images: 9 },
  },
  {
    name: 'a negative prompt with a control character',
    flags: ['a red circle', '--negative', 'blue\u0007'],
    body: { prompt: 'a red circle', negative_prompt: 'blue\u0007' },
  },
];

interface Refusal {
  readonly code: string;
  readonly field: string | undefined;
}

let api: Awaited<ReturnType<typeof makeApi>>;
beforeAll(async () => {
  api = await makeApi();
});

async function viaApi(body: Readonly<Record<string, unknown>>): Promise<Refusal> {
  const response = await api.call(api.alice, 'POST', '/v1/generations', {
    output_format: 'png',
    ...body,
  });
  expect(response.status).toBe(422);
  const problem = (await response.json()) as { code: string; errors?: { field: string }[] };
  return { code: problem.code, field: problem.errors?.[0]?.field };
}

async function viaCli(flags: readonly string[]): Promise<Refusal> {
  const run = await ditserve('generate', ...flags, '--device', 'cpu', '--json');
  expect(run.code).toBe(2);
  expect(run.stderr).not.toMatch(/\n\s+at /); // a refusal, not a crash
  const { error } = JSON.parse(run.stdout) as {
    error: { code: string; fields?: { field: string }[] };
  };
  return { code: error.code, field: error.fields?.[0]?.field };
}

describe('the CLI and the API check a generation request the same way', () => {
  it.each(CASES)('$name', async ({ flags, body }) => {
    const [fromApi, fromCli] = await Promise.all([viaApi(body), viaCli(flags)]);
    expect(fromApi.field).toBeDefined();
    expect(fromCli).toEqual(fromApi);
  });

  it('names the flag and what is allowed on stderr', async () => {
    const run = await ditserve('generate', 'a red circle', '--steps', '150');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ditserve: --steps \(steps\): is 150; allowed: 1–\d+ for model /);
  });
});
