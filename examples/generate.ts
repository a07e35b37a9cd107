/**
 * Generate an image with the typed client, printing live progress, and save it.
 *
 *   npm start                      # in another terminal: ditserve on http://127.0.0.1:8080
 *   npx tsx examples/generate.ts "a red circle left of a blue square"
 *
 * DITSERVE_BASE_URL and DITSERVE_API_KEY point it elsewhere (no key needed in the open local
 * mode); OUT_DIR is where the image goes (the current folder by default).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ditserve, ValidationError } from 'ditserve/client';

const client = new Ditserve({
  baseUrl: process.env.DITSERVE_BASE_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.DITSERVE_API_KEY,
});

try {
  const generation = await client.generate(
    { prompt: process.argv[2] ?? 'a red circle', seed: 42 },
    {
      onProgress: ({ generation: g }) => {
        console.log(g.progress ? `${g.status} ${g.progress.step}/${g.progress.total}` : g.status);
      },
    },
  );
  for (const output of generation.outputs) {
    const image = await fetch(output.url);
    const file = join(process.env.OUT_DIR ?? '.', `${generation.id}-${output.index}.png`);
    await writeFile(file, new Uint8Array(await image.arrayBuffer()));
    console.log(`saved ${file} (${output.width}x${output.height}, seed ${output.seed})`);
  }
  console.log(`done ${generation.id}`);
} catch (error) {
  // A typed error names the field and what is allowed, e.g. "steps: … (allowed: 1–50)".
  if (!(error instanceof ValidationError)) throw error;
  for (const f of error.fieldErrors) {
    console.error(`${f.field}: ${f.message}${f.allowed ? ` (allowed: ${f.allowed})` : ''}`);
  }
  process.exitCode = 1;
}
