// A stand-in for the AWS Lambda Node.js runtime, run as its own process (the way Lambda runs a
// bundle: plain `node`, the environment set before the module loads, /var/task as the code
// folder). It provides what the runtime gives handler code — `globalThis.awslambda` with
// `streamifyResponse` and `HttpResponseStream.from` — and takes invocations over a local HTTP
// port instead of the Runtime API: POST /invoke with the event as the body.
//
// Streaming handlers answer with the raw response stream, as the runtime sends it to Lambda:
// the JSON prelude, 8 NUL bytes, then the body, each chunk passed on as it is written
// (aws-lambda-nodejs-runtime-interface-client, HttpResponseStream.js). Other handlers answer
// with their result as JSON. GET /env-reads lists the environment variables the code has read.
// Usage: node lambda-runtime-host.mjs <task root> <module.export> <timeout ms>
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import process from 'node:process';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = new Uint8Array(8);

/** The response stream the runtime hands a streaming handler (a Writable with setContentType). */
function responseStream(res) {
  let beforeFirstWrite;
  let contentType = 'application/octet-stream';
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'content-type': contentType, 'x-handler-kind': 'streaming' });
    if (beforeFirstWrite) beforeFirstWrite((chunk) => res.write(chunk));
  };
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      start();
      res.write(chunk, callback);
    },
    final(callback) {
      start();
      res.end(callback);
    },
  });
  stream.setContentType = (type) => {
    contentType = type;
  };
  Object.defineProperty(stream, '_onBeforeFirstWrite', {
    set(fn) {
      beforeFirstWrite = fn;
    },
  });
  return stream;
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(underlying, prelude) {
      underlying.setContentType(PRELUDE_CONTENT_TYPE);
      const json = JSON.stringify(prelude);
      underlying._onBeforeFirstWrite = (write) => {
        write(json);
        write(DELIMITER);
      };
      return underlying;
    },
  },
};

const [taskRoot, handlerName = 'index.handler', timeoutArg = '300000'] = process.argv.slice(2);

// Which variables the function reads, so a test can tell a set-but-never-read (misnamed) one.
const reads = new Set();
process.env = new Proxy(process.env, {
  get(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.has(target, key);
  },
});
const dot = handlerName.lastIndexOf('.');
const moduleName = handlerName.slice(0, dot);
const exportName = handlerName.slice(dot + 1);
const file = ['.mjs', '.js', '.cjs']
  .map((ext) => join(taskRoot, `${moduleName}${ext}`))
  .find((path) => existsSync(path));
if (!file) throw new Error(`Runtime.ImportModuleError: no ${moduleName} module in ${taskRoot}`);
// The init phase: top-level await included, as on Lambda.
const handler = (await import(pathToFileURL(file).href))[exportName];
if (typeof handler !== 'function')
  throw new Error(`Runtime.HandlerNotFound: ${handlerName} is not a function`);

const context = (deadlineMs) => ({
  awsRequestId: randomUUID(),
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
});

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/env-reads') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([...reads].sort()));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const timeoutMs = Number(timeoutArg);
    const ctx = context(Date.now() + timeoutMs);
    if (handler[STREAMING] === 'response') {
      const stream = responseStream(res);
      Promise.resolve(handler(event, stream, ctx)).catch((error) => {
        process.stderr.write(`streaming handler threw: ${error?.stack ?? error}\n`);
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      return;
    }
    Promise.resolve(handler(event, ctx)).then(
      (result) => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-handler-kind': 'buffered' });
        res.end(JSON.stringify(result ?? null));
      },
      (error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errorType: error?.name, errorMessage: String(error?.message) }));
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ lambdaHostReady: server.address().port })}\n`);
});
