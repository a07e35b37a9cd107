import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createWebhookHandler } from '../../functions/webhook-dispatcher/handler.ts';
import { dispatchHarness, succeededEvent } from './harness.ts';
import { startReceiver } from '../e2e/webhook-receiver.ts';

function record(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:outbox',
    awsRegion: 'eu-west-1',
  };
}

describe('webhook dispatcher Lambda handler', () => {
  it('reports only what it could not handle in batchItemFailures; failed deliveries are re-sent', async () => {
    const ok = await startReceiver({ status: 200 });
    const down = await startReceiver({ status: 500 });
    const h = await dispatchHarness();
    const errors: string[] = [];
    const handler = createWebhookHandler({
      ...h.deps,
      onError: (_error, r) => errors.push(r.messageId),
    });
    const event: SQSEvent = {
      Records: [
        record('delivered', succeededEvent(ok.url)),
        record('retried', succeededEvent(down.url)),
        record('garbage', '{not json'),
        record('no-url', { ...succeededEvent(ok.url), url: undefined }),
        record('bad-type', { ...succeededEvent(ok.url), type: 'generation.exploded' }),
      ],
    };

    const response = await handler(event);

    const malformed = ['garbage', 'no-url', 'bad-type'];
    expect(response).toEqual({
      batchItemFailures: malformed.map((itemIdentifier) => ({ itemIdentifier })),
    });
    expect(errors).toEqual(malformed);
    expect(ok.received).toHaveLength(1);
    expect(h.outbox.sent).toHaveLength(1);
    expect(h.outbox.sent[0]?.body).toMatchObject({ url: down.url, attempt: 1 });
  });

  it('fails the item when the attempt cannot be recorded, so SQS brings it back', async () => {
    const ok = await startReceiver({ status: 200 });
    const h = await dispatchHarness();
    const handler = createWebhookHandler({
      ...h.deps,
      log: { append: () => Promise.reject(new Error('S3 down')), list: () => Promise.resolve([]) },
    });
    const response = await handler({ Records: [record('m1', succeededEvent(ok.url))] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });

  it('fails the item when the retry cannot be re-sent', async () => {
    const down = await startReceiver({ status: 500 });
    const h = await dispatchHarness();
    const handler = createWebhookHandler({
      ...h.deps,
      outbox: { send: () => Promise.reject(new Error('SQS down')) },
    });
    const response = await handler({ Records: [record('m1', succeededEvent(down.url))] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(await h.log.list('acme', 'gen_test1')).toHaveLength(1);
  });
});
