/* global document, fetch, URL, setTimeout, clearTimeout */
import { sseEvents } from './sse.js';

export const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'expired']);

/** An application/problem+json answer: its stable code, status and per-field problems. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem.code ?? 'http_error';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/**
 * The API beside this page. URLs are relative to the page's folder, so the playground works at
 * `/`, at `/playground` and under a path prefix (API Gateway's `/prod/`).
 */
export class Api {
  /** @param {() => string} key the API key to send, or '' for none */
  constructor(key, base = new URL('.', document.baseURI)) {
    this.key = key;
    this.base = base;
  }

  url(path) {
    return new URL(path, this.base).href;
  }

  headers(extra = {}) {
    const key = this.key();
    return key ? { authorization: `Bearer ${key}`, ...extra } : extra;
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers() };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(this.url(path), init);
    return readJson(response);
  }

  /** Yields the generation at each status or progress event until it ends or the stream closes. */
  async *events(id, signal) {
    const response = await fetch(this.url(`v1/generations/${id}/events`), {
      headers: this.headers({ accept: 'text/event-stream' }),
      signal,
    });
    if (!response.ok || !response.body) await readJson(response);
    for await (const frame of sseEvents(response.body)) {
      if (frame.event === 'status' || frame.event === 'progress' || frame.event === 'done') {
        yield JSON.parse(frame.data);
      }
    }
  }

  /**
   * Follows a generation to its end: SSE while the stream lasts (it ends at the deployment's
   * stream limit), a plain read between streams, so a dropped stream loses nothing.
   */
  async follow(id, onUpdate, signal) {
    for (;;) {
      try {
        for await (const generation of this.events(id, signal)) {
          onUpdate(generation);
          if (TERMINAL.has(generation.status)) return generation;
        }
      } catch (error) {
        if (signal.aborted) throw error;
        if (error instanceof ApiProblem && error.status < 500 && error.status !== 429) throw error;
        await sleep(1000, signal);
      }
      const generation = await this.request('GET', `v1/generations/${id}`);
      onUpdate(generation);
      if (TERMINAL.has(generation.status)) return generation;
    }
  }
}

async function readJson(response) {
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { detail: text.slice(0, 200) || `HTTP ${response.status}` };
  }
  if (!response.ok) throw new ApiProblem(response.status, body);
  return body;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason ?? new Error('aborted'));
    });
  });
}
