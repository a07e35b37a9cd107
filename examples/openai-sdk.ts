/**
 * The official `openai` package against ditserve: only the base URL and the key change.
 *
 *   npx tsx examples/openai-sdk.ts
 *
 * In the open local mode any key string works (the SDK insists on one); elsewhere set
 * DITSERVE_API_KEY to a `dsk_…` key. OUT_DIR is where the image goes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';

const openai = new OpenAI({
  baseURL: `${process.env.DITSERVE_BASE_URL ?? 'http://127.0.0.1:8080'}/v1`,
  apiKey: process.env.DITSERVE_API_KEY ?? 'any-string-works-in-open-local-mode',
});

/** ditserve's extras: the SDK's types do not know them, so declare them once here. */
interface DitserveExtras {
  readonly seed?: number;
  readonly steps?: number;
  readonly guidance_scale?: number;
  readonly negative_prompt?: string;
}

const body: ImageGenerateParamsNonStreaming & DitserveExtras = {
  prompt: 'a red circle',
  n: 1,
  size: 'auto', // the model's default size; or any WxH from GET /v1/models
  seed: 7,
};
// The SDK retries 409/5xx/429 on its own and sends no Idempotency-Key: without one, a retry
// after a `504 wait_timeout` would start a second generation. withResponse() also gives the
// HTTP answer, which names the generation behind the images.
const { data: result, response } = await openai.images
  .generate(body, { headers: { 'Idempotency-Key': crypto.randomUUID() } })
  .withResponse();
const id = response.headers.get('x-ditserve-generation-id');
const b64 = result.data?.[0]?.b64_json ?? '';
const file = join(process.env.OUT_DIR ?? '.', `${id ?? 'openai'}.${result.output_format ?? 'png'}`);
await writeFile(file, Buffer.from(b64, 'base64'));
console.log(`saved ${file} (${result.size ?? '?'})`);

try {
  await openai.images.generate({ prompt: '' });
} catch (error) {
  // ditserve's problems carry an OpenAI-shaped `error`, so the SDK's own classes apply.
  if (!(error instanceof OpenAI.UnprocessableEntityError)) throw error;
  console.log(`refused: ${error.status} ${String(error.code)} (${String(error.param)})`);
}
console.log(`done ${id ?? ''}`);
