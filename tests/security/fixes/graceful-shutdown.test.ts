/**
 * Stopping the embedded server (`ditserve serve` on SIGTERM) answers what is in flight (issue 18):
 * a `Prefer: wait` request gets the job as it stands (202 while it has not ended) and an SSE
 * stream a last `shutdown` event carrying it, then its end — never a cut connection.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { sseEvents, type SseEvent } from '../../api/support.ts';
import { startTestStack } from '../../e2e/test-stack.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { writeTestModel } from '../../helpers/test-model.ts';

interface View {
  id: string;
  status: string;
}

describe('graceful shutdown of the embedded server', () => {
  it('ends Prefer: wait with the current job and SSE with a shutdown event', async () => {
    const dataDir = await tempDir('ditserve-shutdown-');
    // No worker: the jobs stay queued, so only the shutdown can end the wait and the stream.
    const stack = await startTestStack({
      dataDir,
      modelDirs: [await writeTestModel(join(dataDir, 'model'))],
      workers: 0,
      sweepSeconds: 0,
      pollIntervalMs: 20,
    });
    const post = (headers: Record<string, string> = {}) =>
      fetch(`${stack.url}/v1/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ prompt: 'a red circle' }),
      });

    const streamed = (await (await post()).json()) as View;
    const sse = await fetch(`${stack.url}/v1/generations/${streamed.id}/events`);
    expect(sse.status).toBe(200);
    const frames: SseEvent[] = [];
    const streamDone = (async () => {
      for await (const f of sseEvents(sse.body as ReadableStream<Uint8Array>)) frames.push(f);
    })();

    const waiting = post({ prefer: 'wait=60' });
    // Both are in flight: the stream has sent the job's state and the waited-for job exists.
    const list = async () =>
      ((await (await fetch(`${stack.url}/v1/generations`)).json()) as { data: View[] }).data;
    while (frames.length === 0 || (await list()).length < 2) await sleep(20);

    await stack.stop(1000);

    const answer = await waiting;
    expect(answer.status).toBe(202);
    expect(answer.headers.get('preference-applied')).toBe('wait=60');
    expect(((await answer.json()) as View).status).toBe('queued');

    await streamDone;
    expect(frames.map((f) => f.event)).toEqual(['status', 'shutdown']);
    const last = JSON.parse(frames.at(-1)?.data ?? '{}') as View;
    expect(last).toMatchObject({ id: streamed.id, status: 'queued' });
  }, 60_000);
});
