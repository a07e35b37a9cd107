import { describe, expect, it } from 'vitest';
import type { GenerationData } from '../../core/generation.ts';
import { transition } from '../../core/job.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { makeApi } from './harness.ts';
import { parseSse, VALID, type SseEvent } from './support.ts';

type Api = Awaited<ReturnType<typeof makeApi>>;

/**
 * Reads an SSE response event by event and lets `onEvent` move the job on after each one, so
 * the stream is driven by what it has shown rather than by timing.
 */
async function drive(
  response: Response,
  onEvent: (event: SseEvent, index: number) => Promise<void>,
): Promise<SseEvent[]> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error('no body');
  let buffer = '';
  const events: SseEvent[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    const end = buffer.lastIndexOf('\n\n');
    if (end < 0) continue;
    const complete = parseSse(buffer.slice(0, end + 2));
    buffer = buffer.slice(end + 2);
    for (const event of complete) {
      events.push(event);
      await onEvent(event, events.length - 1);
    }
  }
  return events;
}

async function setRunning(api: Api, id: string, step: number) {
  const job = await api.jobs.get<GenerationData>('tenant-alice', id);
  const running = job.status === 'queued' ? transition(job, 'running', new Date()) : job;
  await api.jobs.put(
    {
      ...running,
      version: job.version + 1,
      data: { ...running.data, progress: { step, total: 3 } },
    },
    job.version,
  );
}

/** One write from running to succeeded, so the stream never sees a state in between. */
async function succeed(api: Api, id: string) {
  const job = await api.jobs.get<GenerationData>('tenant-alice', id);
  const key = `jobs/tenant-alice/${id}/out/0.png`;
  await api.blobs.put(key, new Uint8Array([137, 80, 78, 71]), 'image/png');
  const done = transition(job, 'succeeded', new Date());
  const { width, height, seed } = job.data.params;
  await api.jobs.put(
    {
      ...done,
      data: {
        ...done.data,
        progress: undefined,
        outputs: [{ key, index: 0, seed, contentType: 'image/png', bytes: 4, width, height }],
      },
    },
    job.version,
  );
}

describe('GET /v1/generations/{id}/events', () => {
  it('streams status and progress until the job ends, then done', async () => {
    const api = await makeApi();
    const created = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID)
    ).json()) as GenerationView;
    const response = await api.call(api.alice, 'GET', `/v1/generations/${created.id}/events`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-request-id')).toBeTruthy();

    const events = await drive(response, async (_, index) => {
      // queued → running 1/3 → 2/3 → 3/3 → succeeded
      if (index === 0) await setRunning(api, created.id, 1);
      else if (index === 1) await setRunning(api, created.id, 2);
      else if (index === 2) await setRunning(api, created.id, 3);
      else if (index === 3) await succeed(api, created.id);
    });

    expect(events.map((e) => e.event)).toEqual([
      'status',
      'status',
      'progress',
      'progress',
      'status',
      'done',
    ]);
    const views = events.map((e) => JSON.parse(e.data) as GenerationView);
    expect(views.map((v) => v.status)).toEqual([
      'queued',
      'running',
      'running',
      'running',
      'succeeded',
      'succeeded',
    ]);
    expect(views[1]?.progress).toEqual({ step: 1, total: 3, percent: 33.3 });
    expect(views[3]?.progress?.step).toBe(3);
    expect(views[5]?.outputs).toHaveLength(1);
    // Ids increase, so a client can tell events apart.
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ends at once with status and done for a job that is already over', async () => {
    const api = await makeApi();
    const created = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID)
    ).json()) as GenerationView;
    await api.call(api.alice, 'POST', `/v1/generations/${created.id}/cancel`);
    const response = await api.call(api.alice, 'GET', `/v1/generations/${created.id}/events`);
    const events = parseSse(await response.text());
    expect(events.map((e) => e.event)).toEqual(['status', 'done']);
    expect((JSON.parse(events[1]?.data ?? '{}') as GenerationView).status).toBe('canceled');
  });

  it('shows a cancellation that happens while streaming', async () => {
    const api = await makeApi();
    const created = (await (
      await api.call(api.alice, 'POST', '/v1/generations', VALID)
    ).json()) as GenerationView;
    const response = await api.call(api.alice, 'GET', `/v1/generations/${created.id}/events`);
    const events = await drive(response, async (_, index) => {
      if (index === 0) {
        const cancel = await api.call(api.alice, 'POST', `/v1/generations/${created.id}/cancel`);
        expect(cancel.status).toBe(200);
      }
    });
    expect(events.map((e) => e.event)).toEqual(['status', 'status', 'done']);
    expect((JSON.parse(events[2]?.data ?? '{}') as GenerationView).status).toBe('canceled');
  });
});
