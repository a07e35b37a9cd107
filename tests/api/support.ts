import { expect } from 'vitest';
import sharp from 'sharp';
import { HTTP_STATUS } from '../../core/errors.ts';
import type { JobMessage } from '../../core/generation.ts';
import type { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import type { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import type { MessageQueue } from '../../core/ports/message-queue.ts';
import type { Problem } from '../../functions/api/problem.ts';
import { completeJob } from './harness.ts';

/** The body every error answer carries (the API's own type). */
export type ProblemBody = Problem;

/** What every error answer must look like; returns the body for further checks. */
export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<ProblemBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as ProblemBody;
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  // The stable table in core/errors.ts is the single source of the status of a code.
  expect(HTTP_STATUS[code as keyof typeof HTTP_STATUS]).toBe(status);
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  expect(body.request_id).toBe(requestId);
  expect(body.error?.code).toBe(code);
  return body;
}

export function fieldProblem(body: ProblemBody, field: string) {
  const problem = body.errors?.find((e) => e.field === field);
  if (!problem) throw new Error(`no problem for ${field} in ${JSON.stringify(body.errors)}`);
  return problem;
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parses a text/event-stream body (comments and heartbeats skipped). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = 'message';
    const data: string[] = [];
    let id: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') event = value;
      else if (name === 'data') data.push(value);
      else if (name === 'id') id = value;
    }
    if (data.length) events.push({ event, data: data.join('\n'), ...(id ? { id } : {}) });
  }
  return events;
}

/** The events of a streamed text/event-stream body, each as soon as its block is complete. */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      yield* parseSse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

/** A real, decodable PNG of the given size (what a worker would store). */
export async function pngOf(width: number, height: number): Promise<Uint8Array> {
  const buffer = await sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } },
  })
    .png()
    .toBuffer();
  return new Uint8Array(buffer);
}

/**
 * A job queue whose worker is instantaneous: every sent job is completed on the store at once, so
 * the synchronous OpenAI route and `Prefer: wait` finish without a background loop.
 */
export function instantWorkerQueue(
  jobs: MemoryJobStore,
  blobs: MemoryBlobStore,
  inner: MessageQueue<JobMessage>,
  image?: Uint8Array,
): MessageQueue<JobMessage> {
  return {
    ...bind(inner),
    async send(body) {
      await inner.send(body);
      await completeJob(jobs, blobs, body.tenant, body.jobId, image);
    },
  };
}

/** A queue's methods bound to it, so a spread copy can override some of them. */
export function bind<T>(queue: MessageQueue<T>): MessageQueue<T> {
  return {
    send: queue.send.bind(queue),
    receive: queue.receive.bind(queue),
    extend: queue.extend.bind(queue),
    release: queue.release.bind(queue),
    delete: queue.delete.bind(queue),
    depth: queue.depth.bind(queue),
    ping: queue.ping.bind(queue),
  };
}

export const VALID = { prompt: 'a red circle left of a blue square' } as const;
