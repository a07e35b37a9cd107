import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { PinnedTarget } from './ssrf.ts';

export interface PostResult {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
}

export const USER_AGENT = 'ditserve-webhooks/1';

// A hostile receiver must not stream gigabytes at the dispatcher.
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A lookup that always answers with the address that was checked, whatever DNS says now. */
function pinnedLookup(target: PinnedTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

/**
 * POSTs `body` to the pinned target: Host and TLS SNI/certificate checks use the URL's hostname,
 * the TCP connection goes to the pre-checked address. Redirects are not followed (Node's client
 * never does). The response's status must arrive within `timeoutMs` of the start, connecting
 * included; it resolves with the status as soon as it does.
 */
export function postPinned(
  target: PinnedTarget,
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target.url, {
      method: 'POST',
      lookup: pinnedLookup(target),
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': USER_AGENT,
      },
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      // The status is the answer; the body is drained (capped, still under the timer) only so
      // the socket closes cleanly.
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers });
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('close', () => {
        clearTimeout(timer);
      });
      res.on('error', () => undefined);
    });
    req.end(body);
  });
}
