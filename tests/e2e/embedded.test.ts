import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedded } from '../../functions/local/embedded.ts';
import { submitFollowAndVerify } from './scenario.ts';
import { startTestStack } from './test-stack.ts';

describe('the embedded default (npm start): API + worker + dispatcher on local adapters', () => {
  let stack: Embedded;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack.stop(5_000);
  });

  it('answers /healthz as soon as it listens, before the model is loaded', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('the official openai package creates an image through the real worker (b64_json by default)', async () => {
    await stack.ready;
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'local-mode-needs-no-key' });
    const result = await client.images.generate({
      prompt: 'two yellow stars',
      n: 1,
      // Any WxH the model was trained for (the SDK's size type is an open string).
      size: '192x128',
    });
    const b64 = result.data?.[0]?.b64_json ?? '';
    const { info } = await sharp(Buffer.from(b64, 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([192, 128]);
  });

  it('submit → SSE progress → succeeded → image decoded; signed webhooks verify', async () => {
    await stack.ready;
    await submitFollowAndVerify(stack.url);
  });
});
