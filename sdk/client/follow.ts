import { ApiError, ServerError } from './errors.ts';
import { send, type TransportOptions } from './http.ts';
import { sleep } from './retry.ts';
import { readSse } from './sse.ts';
import type { Generation, GenerationEvent } from './types.ts';

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled', 'expired']);

export function isTerminal(generation: Generation): boolean {
  return TERMINAL.has(generation.status);
}

export interface FollowOptions {
  readonly signal?: AbortSignal | undefined;
  /** Polling interval when SSE is not available. */
  readonly pollIntervalMs: number;
}

/**
 * SSE failures that mean "this path cannot stream" (a proxy without streaming, a route missing,
 * the server down for a moment) rather than "this request is wrong": those fall back to polling.
 * A 401 or an unknown generation is the same over polling, so it is thrown instead.
 */
function streamingUnavailable(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  if (!(error instanceof ApiError)) return true;
  return (
    error instanceof ServerError ||
    error.code === 'not_found' ||
    error.status === 405 ||
    error.status === 406
  );
}

/**
 * A generation's updates until it ends: Server-Sent Events from `/events` (reconnecting when
 * the server ends a long stream), else polling `GET /v1/generations/{id}`. Both paths yield the
 * same events: one per change of status or step, the last one terminal.
 */
export async function* followGeneration(
  transport: TransportOptions,
  id: string,
  options: FollowOptions,
): AsyncGenerator<GenerationEvent> {
  const path = `/v1/generations/${encodeURIComponent(id)}`;
  let lastStatus: string | undefined;
  let lastKey: string | undefined;
  const change = (generation: Generation): GenerationEvent | undefined => {
    const key = `${generation.status}:${String(generation.progress?.step ?? '')}`;
    if (key === lastKey) return undefined;
    lastKey = key;
    const type = generation.status === lastStatus ? 'progress' : 'status';
    lastStatus = generation.status;
    return { type, generation };
  };

  let streaming = true;
  while (streaming) {
    let messages = 0;
    try {
      const response = await send(transport, `${path}/events`, {
        accept: 'text/event-stream',
        signal: options.signal,
      });
      const type = response.headers.get('content-type') ?? '';
      if (!response.body || !type.includes('text/event-stream')) {
        await response.body?.cancel();
        break;
      }
      for await (const message of readSse(response.body)) {
        messages++;
        if (!['status', 'progress', 'done'].includes(message.event)) continue;
        const generation = JSON.parse(message.data) as Generation;
        const event = change(generation);
        if (event) yield event;
        if (isTerminal(generation)) return;
      }
    } catch (error) {
      if (!streamingUnavailable(error, options.signal)) throw error;
      break;
    }
    // The server ends a stream after its limit without `done`: reconnect, unless it sent nothing
    // (something in between closes streams), which would loop.
    streaming = messages > 0;
  }

  for (;;) {
    const response = await send(transport, path, { signal: options.signal });
    const generation = (await response.json()) as Generation;
    const event = change(generation);
    if (event) yield event;
    if (isTerminal(generation)) return;
    await sleep(options.pollIntervalMs, options.signal);
  }
}
