import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const HOST = join(import.meta.dirname, 'lambda-runtime-host.mjs');

export interface LambdaProcess {
  /** A buffered handler's result (SQS, EventBridge). */
  invoke(event: unknown): Promise<unknown>;
  /** A streaming handler's response, split where the runtime's 8-NUL delimiter is. */
  invokeStreaming(event: unknown): Promise<StreamedResponse>;
  /** Names of the environment variables the function's code has read so far. */
  envReads(): Promise<string[]>;
  /** Everything the function printed (its log lines). */
  readonly output: string[];
  /** Ends the process; the caller must (see Deployment.stop). */
  stop(): Promise<void>;
}

export interface StreamedResponse {
  /** The raw stream's content type (the runtime's HTTP integration prelude type). */
  readonly contentType: string | null;
  readonly prelude: { statusCode: number; headers: Record<string, string>; cookies?: string[] };
  /** The body after the delimiter, chunk by chunk as the function wrote it. */
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * Starts a bundled handler the way Lambda does: `node` in a fresh process with exactly `env`
 * (nothing inherited), the code folder as the task root, the module loaded (init) before the
 * first invocation. Resolves once init finished; rejects with the init error otherwise.
 */
export async function startLambda(options: {
  taskRoot: string;
  handler: string;
  env: Record<string, string>;
  timeoutMs: number;
}): Promise<LambdaProcess> {
  const args = [HOST, options.taskRoot, options.handler, String(options.timeoutMs)];
  const child = spawn(process.execPath, args, {
    cwd: options.taskRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr }).on('line', (l) => output.push(l));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.startsWith('{"lambdaHostReady":'))
        resolve((JSON.parse(line) as { lambdaHostReady: number }).lambdaHostReady);
    });
    child.once('exit', (code) => {
      reject(new Error(`init failed (exit ${String(code)}):\n${output.join('\n')}`));
    });
  });
  const base = `http://127.0.0.1:${String(port)}`;
  const url = `${base}/invoke`;
  const post = (event: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(event) });
  const lambda: LambdaProcess = {
    output,
    envReads: async () => (await (await fetch(`${base}/env-reads`)).json()) as string[],
    async invoke(event) {
      const response = await post(event);
      const text = await response.text();
      if (!response.ok) throw new Error(`invocation failed: ${text}`);
      return JSON.parse(text) as unknown;
    },
    async invokeStreaming(event) {
      const response = await post(event);
      if (response.headers.get('x-handler-kind') !== 'streaming')
        throw new Error(`not a streaming handler: ${response.status} ${await response.text()}`);
      return splitPrelude(response);
    },
    stop: () => stopChild(child),
  };
  return lambda;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  child.kill();
  return exited;
}

/** Reads up to the 8 NUL bytes; the rest of the stream is the body, still streaming. */
async function splitPrelude(response: Response): Promise<StreamedResponse> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let head = new Uint8Array(0);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before the prelude delimiter: ${text(head)}`);
    head = concat(head, value);
    const at = delimiterAt(head);
    if (at < 0) continue;
    const prelude = JSON.parse(text(head.subarray(0, at))) as StreamedResponse['prelude'];
    const rest = head.subarray(at + 8);
    async function* body(): AsyncGenerator<Uint8Array> {
      if (rest.length > 0) yield rest;
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        yield next.value;
      }
    }
    return { contentType: response.headers.get('content-type'), prelude, body: body() };
  }
}

function delimiterAt(bytes: Uint8Array): number {
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (bytes.subarray(i, i + 8).every((b) => b === 0)) return i;
  }
  return -1;
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The whole body as text. */
export async function bodyText(response: StreamedResponse): Promise<string> {
  let all = new Uint8Array(0);
  for await (const chunk of response.body) all = concat(all, chunk);
  return text(all);
}
