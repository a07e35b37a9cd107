/**
 * Submit a generation, cancel it, and page through your recent generations.
 *
 *   npx tsx examples/list-and-cancel.ts
 *
 * DITSERVE_BASE_URL and DITSERVE_API_KEY as in generate.ts.
 */
import { ConflictError, Ditserve, GenerationCanceledError } from 'ditserve/client';

const client = new Ditserve({
  baseUrl: process.env.DITSERVE_BASE_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.DITSERVE_API_KEY,
});

const submitted = await client.submit({ prompt: 'three green triangles', steps: 20 });
console.log(`submitted ${submitted.id} (${submitted.status})`);
try {
  // Queued: canceled at once. Running: `cancel_requested`, and it stops at its next step.
  const after = await client.cancel(submitted.id);
  console.log(`cancel accepted: ${after.status}${after.cancel_requested ? ' (requested)' : ''}`);
  await client.wait(submitted.id);
  console.log(`finished before the cancel took effect: ${submitted.id}`);
} catch (error) {
  if (error instanceof GenerationCanceledError) console.log(`canceled ${error.generation.id}`);
  // A generation that already ended cannot be canceled (409).
  else if (error instanceof ConflictError) console.log(`already finished: ${error.code}`);
  else throw error;
}

// Pages follow `next_cursor`; stop whenever you have seen enough.
let pages = 0;
for await (const page of client.list({ limit: 2 })) {
  pages++;
  for (const g of page.data) console.log(`page ${pages}: ${g.id} ${g.status} "${g.input.prompt}"`);
  if (pages === 3) break;
}
