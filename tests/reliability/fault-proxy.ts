import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Rng } from './rng.ts';

/**
 * What the proxy does to a call it fails:
 * - `error_500`, `error_503`: the service's own error shape (S3 XML, SQS JSON) with that status;
 * - `throttle`: S3 503 SlowDown, SQS 400 ThrottlingException or RequestThrottled;
 * - `reset_before`: the connection is reset before anything is forwarded (nothing happened);
 * - `reset_after`: the call is forwarded, moto answers (it took effect), then the client's
 *   connection is reset instead of answering, so the client cannot know it worked;
 * - `stall`: nothing is forwarded; the request is held for `stallMs` (longer than the client's
 *   per-try deadline), then reset.
 */
export const FAULT_KINDS = [
  'error_500',
  'error_503',
  'throttle',
  'reset_before',
  'reset_after',
  'stall',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const DEFAULT_FAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  error_500: 2,
  error_503: 2,
  throttle: 2,
  reset_before: 2,
  // The one that proves idempotency: weighted up.
  reset_after: 4,
  stall: 1,
};

export interface FaultProxyOptions {
  /** The real service, e.g. moto_server's http://127.0.0.1:PORT. */
  readonly target: string;
  readonly seed: number;
  /** Share of calls failed, 0–1 (10–20 % in the harness). */
  readonly rate: number;
  /** Relative weights of the kinds; missing kinds are 0 when given. @default DEFAULT_FAULT_WEIGHTS */
  readonly weights?: Partial<Record<FaultKind, number>> | undefined;
  /**
   * How long a stalled call is held before its connection is reset: longer than the client's
   * per-try deadline, so that the client gives up first (core/backend/aws-clients.ts: 10 s; a
   * client without one waits for the reset). @default 12000
   */
  readonly stallMs?: number | undefined;
  /** The same for a long-poll ReceiveMessage, whose deadline is longer (30 s). @default 35000 */
  readonly longPollStallMs?: number | undefined;
  /** Long-poll ReceiveMessage (WaitTimeSeconds > 0) is never stalled (other kinds still apply). */
  readonly excludeLongPollFromStalls?: boolean | undefined;
  /** Operations never failed (besides moto's own /moto-api). */
  readonly exempt?: ((operation: string) => boolean) | undefined;
  /** Starts with faults off (setup calls), until `enabled = true`. @default true */
  readonly enabled?: boolean | undefined;
  readonly host?: string | undefined;
  /** 0 picks a free port. */
  readonly port?: number | undefined;
}

export interface OperationStats {
  requests: number;
  faults: Partial<Record<FaultKind, number>>;
}

export interface FaultStats {
  readonly requests: number;
  readonly forwarded: number;
  readonly faulted: number;
  readonly byKind: Record<FaultKind, number>;
  /** `S3.PutObject`, `SQS.ReceiveMessage`, …: requests seen and faults injected. */
  readonly byOperation: Record<string, OperationStats>;
  /** Upstream (moto) failures the proxy passed on as resets: should stay 0. */
  readonly upstreamErrors: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** Faults on or off; calls are forwarded either way. */
  enabled: boolean;
  /** Changes the share of calls failed. */
  setRate(rate: number): void;
  stats(): FaultStats;
  close(): Promise<void>;
}

/** Which service and operation a request is, from what the AWS SDK v3 sends. */
export function classify(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): { service: 'S3' | 'SQS' | 'other'; operation: string; longPoll: boolean } {
  const parsed = new URL(url, 'http://proxy');
  if (parsed.pathname.startsWith('/moto-api')) {
    return { service: 'other', operation: 'moto-api', longPoll: false };
  }
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    const operation = `SQS.${target.slice('AmazonSQS.'.length)}`;
    let longPoll = false;
    if (operation === 'SQS.ReceiveMessage') {
      try {
        const input = JSON.parse(body.toString('utf8')) as { WaitTimeSeconds?: number };
        longPoll = (input.WaitTimeSeconds ?? 0) > 0;
      } catch {
        longPoll = false;
      }
    }
    return { service: 'SQS', operation, longPoll };
  }
  const contentType = headers['content-type'] ?? '';
  if (method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
    // The SQS query protocol (older SDKs): Action=SendMessage&…
    const action = new URLSearchParams(body.toString('utf8')).get('Action');
    if (action) {
      return { service: 'SQS', operation: `SQS.${action}`, longPoll: action === 'ReceiveMessage' };
    }
  }
  const xId = parsed.searchParams.get('x-id');
  if (xId) return { service: 'S3', operation: `S3.${xId}`, longPoll: false };
  const segments = parsed.pathname.split('/').filter(Boolean);
  const q = parsed.searchParams;
  let operation: string;
  if (segments.length === 0) operation = 'ListBuckets';
  else if (segments.length === 1) {
    operation =
      method === 'GET'
        ? q.get('list-type') === '2'
          ? 'ListObjectsV2'
          : 'ListObjects'
        : method === 'PUT'
          ? 'CreateBucket'
          : method === 'HEAD'
            ? 'HeadBucket'
            : method === 'POST' && q.has('delete')
              ? 'DeleteObjects'
              : method === 'DELETE'
                ? 'DeleteBucket'
                : `${method}Bucket`;
  } else {
    operation =
      method === 'GET'
        ? 'GetObject'
        : method === 'PUT'
          ? q.has('tagging')
            ? 'PutObjectTagging'
            : headers['x-amz-copy-source']
              ? 'CopyObject'
              : 'PutObject'
          : method === 'HEAD'
            ? 'HeadObject'
            : method === 'DELETE'
              ? 'DeleteObject'
              : `${method}Object`;
  }
  return { service: 'S3', operation: `S3.${operation}`, longPoll: false };
}

interface ErrorReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const S3_ERRORS = {
  error_500: ['InternalError', 500, 'We encountered an internal error. Please try again.'],
  error_503: ['ServiceUnavailable', 503, 'Service is unable to handle request.'],
  throttle: ['SlowDown', 503, 'Please reduce your request rate.'],
} as const;

const SQS_ERRORS = {
  error_500: ['InternalFailure', 500, 'com.amazon.coral.service#InternalFailure', 'Receiver'],
  error_503: [
    'ServiceUnavailable',
    503,
    'com.amazon.coral.service#ServiceUnavailableException',
    'Receiver',
  ],
  throttle: ['ThrottlingException', 400, 'com.amazonaws.sqs#ThrottlingException', 'Sender'],
} as const;

/** The service's own error response for an error kind (S3: XML; SQS: the AWS JSON protocol). */
export function errorReply(
  service: 'S3' | 'SQS' | 'other',
  kind: 'error_500' | 'error_503' | 'throttle',
  jsonProtocol: boolean,
  variant: number,
): ErrorReply {
  const requestId = randomUUID();
  if (service === 'SQS') {
    const base = SQS_ERRORS[kind];
    // SQS names throttling two ways (both in the SDK's throttling list): alternate them.
    const [code, status, type, fault] =
      kind === 'throttle' && variant % 2 === 1
        ? (['RequestThrottled', 400, 'com.amazonaws.sqs#RequestThrottled', 'Sender'] as const)
        : base;
    const message = kind === 'throttle' ? 'Rate exceeded' : 'The service is unavailable';
    if (jsonProtocol) {
      return {
        status,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': requestId,
          // awsQueryCompatible: the SDK reads the classic error code from here.
          'x-amzn-query-error': `${code};${fault}`,
        },
        body: JSON.stringify({ __type: type, message }),
      };
    }
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body:
        `<?xml version="1.0"?><ErrorResponse><Error><Type>${fault}</Type><Code>${code}</Code>` +
        `<Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  const [code, status, message] = S3_ERRORS[kind];
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
      `<RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`,
  };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    stream.on('error', reject);
  });
}

/** A TCP RST, as a dead load balancer or a network blip would give (not a clean FIN). */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}

/**
 * An HTTP proxy in front of moto_server that fails a seeded share of S3 and SQS calls (see
 * FaultKind); clients point AWS_ENDPOINT_URL at it. Decisions come from one seeded stream in
 * arrival order, so a seed reproduces the mix of faults (not the exact calls they land on:
 * concurrent processes interleave differently from run to run).
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const rng = new Rng(options.seed);
  const weights: Record<FaultKind, number> = options.weights
    ? (Object.fromEntries(FAULT_KINDS.map((k) => [k, options.weights?.[k] ?? 0])) as Record<
        FaultKind,
        number
      >)
    : { ...DEFAULT_FAULT_WEIGHTS };
  const stallMs = options.stallMs ?? 12_000;
  const longPollStallMs = options.longPollStallMs ?? 35_000;
  let rate = options.rate;
  let enabled = options.enabled ?? true;
  let requests = 0;
  let forwarded = 0;
  let upstreamErrors = 0;
  let variant = 0;
  const byKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const byOperation: Record<string, OperationStats> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(body.byteLength);
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
        },
        (res) => {
          readBody(res).then(
            (data) => {
              resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data });
            },
            (error: unknown) => {
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  function pickFault(operation: string, longPoll: boolean): FaultKind | undefined {
    if (!enabled || operation === 'moto-api' || options.exempt?.(operation)) return undefined;
    if (rng.next() >= rate) return undefined;
    const usable =
      longPoll && options.excludeLongPollFromStalls ? { ...weights, stall: 0 } : weights;
    return rng.weighted(usable);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const { service, operation, longPoll } = classify(
      req.method ?? 'GET',
      req.url ?? '/',
      req.headers,
      body,
    );
    requests += 1;
    const op = (byOperation[operation] ??= { requests: 0, faults: {} });
    op.requests += 1;
    const fault = pickFault(operation, longPoll);
    if (fault) {
      byKind[fault] += 1;
      op.faults[fault] = (op.faults[fault] ?? 0) + 1;
    }
    const socket = req.socket;
    switch (fault) {
      case 'reset_before':
        reset(socket);
        return;
      case 'stall': {
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            reset(socket);
          },
          longPoll ? longPollStallMs : stallMs,
        );
        timers.add(timer);
        return;
      }
      case 'error_500':
      case 'error_503':
      case 'throttle': {
        const reply = errorReply(
          service,
          fault,
          typeof req.headers['x-amz-target'] === 'string',
          variant++,
        );
        const noBody = req.method === 'HEAD';
        res.writeHead(reply.status, {
          ...reply.headers,
          'content-length': String(noBody ? 0 : Buffer.byteLength(reply.body)),
        });
        res.end(noBody ? undefined : reply.body);
        return;
      }
      case 'reset_after':
      case undefined:
        break;
    }
    let answer: Awaited<ReturnType<typeof forward>>;
    try {
      answer = await forward(req, body);
    } catch {
      upstreamErrors += 1;
      reset(socket);
      return;
    }
    forwarded += 1;
    if (fault === 'reset_after') {
      reset(socket);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    // A HEAD answer keeps moto's content-length (the object's size); others carry the bytes.
    if (req.method !== 'HEAD') headers['content-length'] = String(answer.body.byteLength);
    res.writeHead(answer.status, headers);
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      reset(req.socket);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset peer is expected here; do not let it crash the test process.
    socket.on('error', () => undefined);
  });
  server.on('clientError', (_error, socket) => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    get enabled() {
      return enabled;
    },
    set enabled(value: boolean) {
      enabled = value;
    },
    setRate(value: number) {
      rate = value;
    },
    stats(): FaultStats {
      return {
        requests,
        forwarded,
        faulted: Object.values(byKind).reduce((a, b) => a + b, 0),
        byKind: { ...byKind },
        byOperation: Object.fromEntries(
          Object.entries(byOperation)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => [k, { requests: v.requests, faults: { ...v.faults } }]),
        ),
        upstreamErrors,
      };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
