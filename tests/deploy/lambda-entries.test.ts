import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import type { GenerationData, GenerationJob, WebhookEventMessage } from '../../core/generation.ts';
import { newJobId } from '../../core/ids.ts';
import { sseEvents, type SseEvent } from '../api/support.ts';
import { bodyText, type LambdaProcess, type StreamedResponse } from './lambda-host.ts';
import {
  rehearsedDeployment,
  startWorker,
  type Deployment,
  type RunningWorker,
} from './deployment.ts';
import { pathOf, publicUrl, restEvent, scheduledEvent, sqsEvent, STAGE } from './rest-events.ts';

interface JobView {
  id: string;
  status: string;
  progress?: { step: number; total_steps?: number };
  outputs?: { url: string; content_type: string }[];
  links: { self: string; cancel: string; events: string };
}

/** SSE frames in the order they arrived, read chunk by chunk off the response stream. */
async function sseFrames(response: StreamedResponse): Promise<SseEvent[]> {
  const frames: SseEvent[] = [];
  for await (const frame of sseEvents(response.body)) frames.push(frame);
  return frames;
}

describe('the bundled Lambda handlers, invoked with AWS event shapes against the stack on moto', () => {
  let d: Deployment;
  let api: LambdaProcess;
  let worker: RunningWorker;
  let auth: Record<string, string>;

  const call = async (options: Parameters<typeof restEvent>[0]) => {
    const response = await api.invokeStreaming(restEvent(options));
    return { response, text: await bodyText(response) };
  };

  beforeAll(async () => {
    d = await rehearsedDeployment();
    const key = await issueApiKey(d.backend.keys, 'tenant-deploy', 'deploy rehearsal');
    auth = { Authorization: `Bearer ${key.key}` };
    [api, worker] = await Promise.all([d.startFunction('api'), startWorker(d)]);
    await worker.ready();
  }, 180_000);

  afterAll(async () => {
    await d.stop();
  });

  it('speaks the runtime’s streaming protocol: prelude with status and headers, delimiter, body', async () => {
    const { response, text } = await call({ method: 'GET', path: '/v1/models', headers: auth });
    expect(response.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(response.prelude.statusCode).toBe(200);
    expect(response.prelude.headers['content-type']).toMatch(/^application\/json/);
    expect((JSON.parse(text) as { data: { id: string }[] }).data.map((m) => m.id)).toContain(
      'shapes-mmdit-s',
    );
  });

  it('create (base64 body) → get → SSE in order → output image; links carry the stage', async () => {
    const created = await call({
      method: 'POST',
      path: '/v1/generations',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'a red circle left of a blue square', steps: 30, seed: 11 }),
      base64: true,
    });
    expect(created.response.prelude.statusCode, created.text).toBe(202);
    const job = JSON.parse(created.text) as JobView;
    // Followed from the stage URL the client called, the links stay inside the stage.
    expect(pathOf(job.links.self)).toBe(`/v1/generations/${job.id}`);
    expect(pathOf(job.links.events)).toBe(`/v1/generations/${job.id}/events`);

    const got = await call({ method: 'GET', path: pathOf(job.links.self), headers: auth });
    expect(got.response.prelude.statusCode).toBe(200);
    expect((JSON.parse(got.text) as JobView).id).toBe(job.id);

    const sse = await api.invokeStreaming(
      restEvent({
        method: 'GET',
        path: pathOf(job.links.events),
        headers: { ...auth, Accept: 'text/event-stream' },
      }),
    );
    expect(sse.prelude.statusCode).toBe(200);
    expect(sse.prelude.headers['content-type']).toMatch(/^text\/event-stream/);
    const frames = await sseFrames(sse);
    const views = frames.map((f) => JSON.parse(f.data) as JobView);
    expect(frames.at(-1)?.event).toBe('done');
    expect(views.at(-1)?.status).toBe('succeeded');
    // In order: ids count up, the status never goes back, progress never decreases while it runs.
    expect(frames.map((f) => Number(f.id))).toEqual(frames.map((_, i) => i + 1));
    const rank = ['queued', 'running', 'succeeded'];
    const ranks = views.map((v) => rank.indexOf(v.status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const running = views.filter((v) => v.status === 'running');
    expect(running.length).toBeGreaterThan(0);
    const steps = running.map((v) => v.progress?.step ?? 0);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));

    const output = views.at(-1)?.outputs?.[0];
    expect(output?.content_type).toBe('image/png');
    const image = await fetch(output?.url ?? '');
    expect(image.status).toBe(200);
    const { info } = await sharp(Buffer.from(await image.arrayBuffer())).toBuffer({
      resolveWithObject: true,
    });
    expect([info.width, info.height]).toEqual([128, 128]);
  });

  it('Prefer: wait holds the create until the job is done and answers 200', async () => {
    const { response, text } = await call({
      method: 'POST',
      path: '/v1/generations',
      headers: { ...auth, 'Content-Type': 'application/json', Prefer: 'wait=60' },
      body: JSON.stringify({ prompt: 'a green triangle', steps: 4, seed: 3 }),
    });
    expect(response.prelude.statusCode, text).toBe(200);
    expect(response.prelude.headers['preference-applied']).toBe('wait=60');
    expect((JSON.parse(text) as JobView).status).toBe('succeeded');
  });

  it('client mistakes are problem+json with a code, through the stream too', async () => {
    const bad = await call({
      method: 'POST',
      path: '/v1/generations',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', steps: 'many' }),
    });
    expect(bad.response.prelude.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.response.prelude.statusCode).toBeLessThan(500);
    expect(bad.response.prelude.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(bad.text)).toMatchObject({ code: expect.any(String) as string });

    const anonymous = await call({ method: 'GET', path: '/v1/generations' });
    expect(anonymous.response.prelude.statusCode).toBe(401);
    expect(anonymous.response.prelude.headers['content-type']).toMatch(
      /^application\/problem\+json/,
    );

    const missing = await call({
      method: 'GET',
      path: '/v1/generations/gen_doesnotexist',
      headers: auth,
    });
    expect(missing.response.prelude.statusCode).toBe(404);
    expect(missing.response.prelude.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('the OpenAPI document names a server inside the stage', async () => {
    const { text } = await call({ method: 'GET', path: '/openapi.json' });
    const server = (JSON.parse(text) as { servers: { url: string }[] }).servers[0]?.url ?? '';
    expect(new URL(server, publicUrl('/')).pathname.replace(/\/$/, '')).toBe(`/${STAGE}`);
  });

  it('the dispatcher takes an SQS batch and reports only the unreadable record as a failure', async () => {
    const dispatcher = await d.startFunction('dispatcher');
    const event: WebhookEventMessage = {
      id: 'msg_deploy_rehearsal_1',
      tenant: 'tenant-deploy',
      jobId: 'gen_deployrehearsal1',
      type: 'generation.succeeded',
      // Refused by the SSRF policy before any connection: recorded, not retried.
      url: 'https://127.0.0.1/hooks',
      timestamp: new Date().toISOString(),
      data: { id: 'gen_deployrehearsal1', status: 'succeeded' },
    };
    await d.moto.sqs.send(
      new SendMessageCommand({ QueueUrl: d.outboxQueueUrl, MessageBody: JSON.stringify(event) }),
    );
    await d.moto.sqs.send(
      new SendMessageCommand({ QueueUrl: d.outboxQueueUrl, MessageBody: 'not an outbox event' }),
    );
    const messages = [];
    while (messages.length < 2) {
      const got = await d.moto.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: d.outboxQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      messages.push(
        ...(got.Messages ?? []).filter(
          (m) => m.Body === 'not an outbox event' || m.Body?.includes(event.id),
        ),
      );
    }
    const batch = sqsEvent(d.outboxQueueUrl, messages);
    const result = (await dispatcher.invoke(batch)) as {
      batchItemFailures: { itemIdentifier: string }[];
    };
    const garbage = batch.Records.find((r) => r.body === 'not an outbox event');
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: garbage?.messageId }]);
    // The readable one was handled: its attempt is in the delivery log in the stack's bucket.
    const attempts = await d.backend.deliveryLog.list(event.tenant, event.jobId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ webhookId: event.id });
  });

  it('the sweeper takes the scheduled event and ends a job whose message was lost past its expiry', async () => {
    // The worker sweeps too: this pass must be the Lambda's.
    await worker.stop();
    const [done] = (await d.backend.jobs.list<GenerationData>('tenant-deploy', { limit: 1 })).jobs;
    if (!done) throw new Error('no job of the earlier tests to copy parameters from');
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const lost: GenerationJob = {
      id: newJobId(Date.now() - 3_600_000),
      tenant: 'tenant-deploy',
      status: 'queued',
      version: 1,
      createdAt: hourAgo,
      // Stored, never enqueued (the send was lost), and past its time to live.
      data: { params: done.data.params, expiresAt: hourAgo },
    };
    await d.backend.jobs.create(lost);

    const sweeper = await d.startFunction('sweeper');
    const rule =
      d.rehearsal.physical.get(d.synth.logicalId('AWS::Events::Rule', 'SweeperSchedule')) ?? '';
    const summary = (await sweeper.invoke(scheduledEvent(rule))) as Record<string, number>;
    expect(summary).toMatchObject({ ended: 1, errors: 0 });
    expect(Object.keys(summary).sort()).toEqual([
      'checked',
      'dropped',
      'ended',
      'errors',
      'requeued',
      'settled',
    ]);
    expect((await d.backend.jobs.get<GenerationData>(lost.tenant, lost.id)).status).toBe('expired');
    expect(sweeper.output.some((l) => l.includes('"message":"sweep"'))).toBe(true);
  });
});
