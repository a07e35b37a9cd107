/**
 * The smoke test to run right after `cdk deploy` (or against any ditserve):
 *
 *   npm run smoke -- --url <API URL> --key <API key> [--webhook-url <public URL> [--webhook-port <port>]]
 *
 * It checks the user's whole path through the real stack: health, submit, SSE progress to the
 * end, the output image downloaded, and — when --webhook-url is given — the signed webhook
 * received and verified. For the webhook it starts a receiver on this machine (--webhook-port,
 * default 8787, all interfaces); --webhook-url is where the stack can reach it from the internet
 * (a tunnel or a public host that forwards to that port): the stack delivers only to public
 * https URLs. Without --webhook-url the webhook check is skipped, and says so.
 *
 * Exit status 0 when every check passed, 1 when one failed, 2 for bad arguments.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

interface Options {
  url: string;
  key: string;
  webhookUrl?: string | undefined;
  webhookPort: number;
  timeoutSeconds: number;
  prompt: string;
  steps: number;
}

interface JobView {
  id: string;
  status: string;
  model?: string;
  progress?: { step: number; total_steps?: number };
  error?: { code?: string; message?: string };
  outputs?: { url: string; content_type: string }[];
  links: { self: string; events: string };
}

const USAGE =
  'usage: npm run smoke -- --url <API URL> --key <API key> [--webhook-url <public URL>] [--webhook-port 8787] [--timeout 600] [--prompt "…"] [--steps 20]';

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      'webhook-url': { type: 'string' },
      'webhook-port': { type: 'string', default: '8787' },
      timeout: { type: 'string', default: '600' },
      prompt: { type: 'string', default: 'a red circle left of a blue square' },
      steps: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.url || !values.key) throw new UsageError('--url and --key are required');
  const number = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number`);
    return n;
  };
  return {
    url: values.url.endsWith('/') ? values.url : `${values.url}/`,
    key: values.key,
    webhookUrl: values['webhook-url'],
    webhookPort: number('webhook-port', values['webhook-port']),
    timeoutSeconds: number('timeout', values.timeout),
    prompt: values.prompt,
    steps: number('steps', values.steps),
  };
}

class UsageError extends Error {}
class CheckFailed extends Error {}

function pass(what: string): void {
  console.log(`✓ ${what}`);
}

function check(ok: boolean, what: string, detail = ''): asserts ok {
  if (!ok) throw new CheckFailed(`${what}${detail ? `: ${detail}` : ''}`);
  pass(what);
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver for the webhook; the stack reaches it through the user's public URL. */
async function startReceiver(port: number) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return {
    received,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** SSE frames of a response, as they arrive, until the stream ends. */
async function* sse(response: Response): AsyncGenerator<{ event: string; data: string }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const data = lines
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      const event =
        lines
          .find((l) => l.startsWith('event:'))
          ?.slice(6)
          .trim() ?? 'message';
      if (data) yield { event, data };
    }
  }
}

async function smoke(o: Options): Promise<void> {
  const api = (path: string) => new URL(path, o.url).toString();
  const headers = { authorization: `Bearer ${o.key}` };
  const deadline = AbortSignal.timeout(o.timeoutSeconds * 1000);

  const health = await fetch(api('healthz'), { signal: deadline });
  check(health.ok, `GET ${api('healthz')} answers`, String(health.status));

  const models = await fetch(api('v1/models'), { headers, signal: deadline });
  check(
    models.ok,
    'the key is accepted (GET /v1/models)',
    `${models.status} ${await models.clone().text()}`,
  );
  const model = ((await models.json()) as { data: { id: string }[] }).data[0]?.id;
  check(model !== undefined, `a model is served (${model ?? 'none'})`);

  const receiver = o.webhookUrl ? await startReceiver(o.webhookPort) : undefined;
  try {
    let secret: string | undefined;
    if (receiver) {
      const got = await fetch(api('v1/webhooks/secret'), { headers, signal: deadline });
      check(got.ok, 'the webhook signing secret is readable', String(got.status));
      secret = ((await got.json()) as { secret: string }).secret;
    }
    const created = await fetch(api('v1/generations'), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({
        prompt: o.prompt,
        steps: o.steps,
        model,
        ...(o.webhookUrl ? { webhook: { url: o.webhookUrl } } : {}),
        metadata: { source: 'ditserve-smoke' },
      }),
      signal: deadline,
    });
    const createdText = await created.text();
    check(
      created.status === 202 || created.status === 200,
      'submit accepted',
      `${created.status} ${createdText}`,
    );
    const job = JSON.parse(createdText) as JobView;
    console.log(`  job ${job.id}`);

    // Links may be absolute or relative to the API URL.
    const events = await fetch(new URL(job.links.events, o.url), {
      headers: { ...headers, accept: 'text/event-stream' },
      signal: deadline,
    });
    check(
      events.ok && (events.headers.get('content-type') ?? '').startsWith('text/event-stream'),
      'SSE stream opened',
      `${events.status} ${events.headers.get('content-type') ?? ''}`,
    );
    let last: JobView | undefined;
    let sawProgress = false;
    let done = false;
    for await (const frame of sse(events)) {
      last = JSON.parse(frame.data) as JobView;
      if (last.progress && last.progress.step > 0) {
        if (!sawProgress) pass('SSE shows progress');
        sawProgress = true;
        process.stdout.write(
          `  ${last.status} step ${last.progress.step}/${last.progress.total_steps ?? '?'}\n`,
        );
      }
      if (frame.event === 'done') {
        done = true;
        break;
      }
    }
    check(done, 'SSE ended with a done event');
    check(
      last?.status === 'succeeded',
      'the job succeeded',
      `${last?.status ?? 'no status'} ${JSON.stringify(last?.error ?? {})}`,
    );

    const final = (await (
      await fetch(new URL(job.links.self, o.url), { headers, signal: deadline })
    ).json()) as JobView;
    const output = final.outputs?.[0];
    check(output !== undefined, 'the job has an output');
    const image = await fetch(new URL(output.url, o.url), { signal: deadline });
    const bytes = Buffer.from(await image.arrayBuffer());
    check(
      image.ok &&
        (image.headers.get('content-type') ?? '').startsWith('image/') &&
        bytes.length > 0,
      `output downloaded (${bytes.length} bytes, ${image.headers.get('content-type') ?? '?'})`,
      String(image.status),
    );

    if (!receiver || !secret) {
      console.log(
        '- webhook check skipped: pass --webhook-url <public https URL that forwards to this machine> (and --webhook-port, default 8787) to check delivery',
      );
      return;
    }
    console.log(`  waiting for the webhook on port ${receiver.port} …`);
    const verifier = new Webhook(secret);
    for (;;) {
      const hook = receiver.received.find((r) => r.body.includes('"generation.succeeded"'));
      if (hook) {
        const payload = verifier.verify(hook.body, {
          'webhook-id': String(hook.headers['webhook-id']),
          'webhook-timestamp': String(hook.headers['webhook-timestamp']),
          'webhook-signature': String(hook.headers['webhook-signature']),
        }) as { type: string; data: { id: string } };
        check(
          payload.data.id === job.id,
          'signed generation.succeeded webhook received and verified',
        );
        return;
      }
      if (deadline.aborted)
        throw new CheckFailed(`no generation.succeeded webhook within ${o.timeoutSeconds} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await receiver?.close();
  }
}

try {
  await smoke(options(process.argv.slice(2)));
  console.log('smoke test passed');
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`✗ ${error instanceof Error ? error.message : String(error)}`);
  console.error('smoke test failed');
  process.exit(1);
}
