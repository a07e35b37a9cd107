import sharp from 'sharp';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { startWebhookReceiver } from './webhook-receiver.ts';

interface SseEvent {
  event: string;
  data: string;
}

/** Reads a text/event-stream response to its end (the API closes it after `done`). */
async function readSse(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      const event =
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim() ?? 'message';
      const data = lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      return { event, data };
    })
    .filter((e) => e.data !== '');
}

async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The user's whole path through a running deployment: submit over HTTP with a webhook, follow
 * SSE progress to the end, fetch and decode the image, and verify every webhook's signature
 * with the official `standardwebhooks` package.
 */
export async function submitFollowAndVerify(baseUrl: string, headers: Record<string, string> = {}) {
  const receiver = await startWebhookReceiver();
  try {
    const secret = (await (await fetch(`${baseUrl}/v1/webhooks/secret`, { headers })).json()) as {
      secret: string;
    };
    expect(secret.secret).toMatch(/^whsec_/);

    const created = await fetch(`${baseUrl}/v1/generations`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: 'a red circle left of a blue square',
        steps: 40,
        seed: 7,
        webhook: { url: receiver.url },
        metadata: { order: 'e2e-1' },
      }),
    });
    expect(created.status).toBe(202);
    const job = (await created.json()) as { id: string; links: { events: string } };

    const sse = await fetch(job.links.events, {
      headers: { ...headers, accept: 'text/event-stream' },
    });
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(sse);
    const states = events.map(
      (e) => JSON.parse(e.data) as { status: string; progress?: { step: number } },
    );
    expect(events.at(-1)?.event).toBe('done');
    expect(states.at(-1)?.status).toBe('succeeded');
    // SSE showed the job running with progress before it finished.
    expect(states.some((s) => s.status === 'running')).toBe(true);
    expect(states.some((s) => (s.progress?.step ?? 0) > 0)).toBe(true);

    const final = (await (
      await fetch(`${baseUrl}/v1/generations/${job.id}`, { headers })
    ).json()) as {
      status: string;
      outputs: { url: string; content_type: string; width: number; height: number; seed: number }[];
      timings: { queue_ms: number; inference_ms: number };
    };
    expect(final.status).toBe('succeeded');
    expect(final.outputs).toHaveLength(1);
    const [output] = final.outputs;
    expect(output?.seed).toBe(7);
    expect(final.timings.inference_ms).toBeGreaterThan(0);
    const image = await fetch(output?.url ?? '');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const decoded = await sharp(Buffer.from(await image.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height]).toEqual([128, 128]);
    // A real image, not a blank: the pixels vary.
    expect(new Set(decoded.data).size).toBeGreaterThan(16);

    // Webhooks arrive from the dispatcher asynchronously; wait for the terminal one.
    await until(
      () => receiver.received.find((r) => r.body.includes('"generation.succeeded"')),
      30_000,
    );
    const verifier = new Webhook(secret.secret);
    const payloads = receiver.received.map(
      (r) =>
        verifier.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }) as {
          type: string;
          data: { id: string; metadata?: Record<string, string>; outputs?: { url?: string }[] };
        },
    );
    expect(payloads.map((p) => p.type)).toContain('generation.started');
    const succeeded = payloads.filter((p) => p.type === 'generation.succeeded');
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]?.data.id).toBe(job.id);
    expect(succeeded[0]?.data.metadata).toEqual({ order: 'e2e-1' });
    expect(succeeded[0]?.data.outputs?.[0]?.url).toMatch(/^https?:\/\//);
    // A tampered body fails verification: the signature really covers it.
    const first = receiver.received[0];
    expect(() =>
      verifier.verify(`${first?.body ?? ''} `, {
        'webhook-id': String(first?.headers['webhook-id']),
        'webhook-timestamp': String(first?.headers['webhook-timestamp']),
        'webhook-signature': String(first?.headers['webhook-signature']),
      }),
    ).toThrow();
    return { jobId: job.id };
  } finally {
    await receiver.close();
  }
}
