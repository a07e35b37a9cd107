import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Delivery,
  MessageQueue,
  ReceiveOptions,
  SendOptions,
} from '../../ports/message-queue.ts';
import { delayMs, resolveReceive, visibilityMs } from '../queue-options.ts';
import { atAwsBoundary, isAbort, isStaleReceipt } from './aws-errors.ts';

export interface SqsMessageQueueOptions {
  readonly client: SQSClient;
  /** For receives, when their deadline must differ (long polls); `client` when absent. */
  readonly pollClient?: SQSClient | undefined;
  readonly queueUrl: string;
  /** Visibility timeout when a receive names none; the queue's own setting when absent. */
  readonly visibilitySeconds?: number | undefined;
}

/**
 * MessageQueue on SQS (standard queue). Bodies are JSON; the receipt is the ReceiptHandle and
 * receiveCount is ApproximateReceiveCount. The dead-letter queue is the queue's RedrivePolicy
 * (see createQueueWithDeadLetter), so SQS itself moves a message after maxReceiveCount.
 */
export class SqsMessageQueue<T> implements MessageQueue<T> {
  readonly #client: SQSClient;
  readonly #pollClient: SQSClient;
  readonly #url: string;
  readonly #visibilitySeconds: number | undefined;

  constructor(options: SqsMessageQueueOptions) {
    this.#client = options.client;
    this.#pollClient = options.pollClient ?? options.client;
    this.#url = options.queueUrl;
    this.#visibilitySeconds = options.visibilitySeconds;
  }

  send(body: T, options: SendOptions = {}): Promise<void> {
    return atAwsBoundary('sending a message', async () => {
      await this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.#url,
          MessageBody: JSON.stringify(body),
          DelaySeconds: delayMs(options.delaySeconds) / 1000,
        }),
      );
    });
  }

  receive(options: ReceiveOptions = {}): Promise<Delivery<T>[]> {
    return atAwsBoundary('receiving messages', async () => {
      if (options.signal?.aborted) return [];
      const { maxMessages, waitMs, visibilityMs: hideMs } = resolveReceive(options, 0);
      const visibility =
        options.visibilitySeconds !== undefined ? hideMs / 1000 : this.#visibilitySeconds;
      try {
        const res = await this.#pollClient.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#url,
            MaxNumberOfMessages: maxMessages,
            WaitTimeSeconds: waitMs / 1000,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            ...(visibility !== undefined ? { VisibilityTimeout: visibility } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        );
        return (res.Messages ?? []).flatMap((m) => {
          const body = parseBody(m.Body);
          // A body that is not JSON cannot be worked: leave it to come back until the
          // queue's redrive policy moves it to the dead-letter queue.
          if (!body || !m.ReceiptHandle) return [];
          return [
            {
              body: body.value as T,
              receipt: m.ReceiptHandle,
              receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
            },
          ];
        });
      } catch (error) {
        // Shutdown aborted the long poll: whatever SQS handed out comes back after its timeout.
        if (isAbort(error) || options.signal?.aborted) return [];
        throw error;
      }
    });
  }

  extend(receipt: string, seconds: number): Promise<void> {
    return this.#changeVisibility(receipt, visibilityMs(seconds) / 1000);
  }

  release(receipt: string): Promise<void> {
    return this.#changeVisibility(receipt, 0);
  }

  delete(receipt: string): Promise<void> {
    return atAwsBoundary('deleting a message', async () => {
      try {
        await this.#client.send(
          new DeleteMessageCommand({ QueueUrl: this.#url, ReceiptHandle: receipt }),
        );
      } catch (error) {
        if (!isStaleReceipt(error)) throw error;
      }
    });
  }

  /** Visible plus delayed messages (SQS's approximate counts); in-flight ones are not waiting. */
  depth(): Promise<number> {
    return atAwsBoundary('reading the queue depth', async () => {
      const res = await this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      const attrs = res.Attributes ?? {};
      return (
        Number(attrs.ApproximateNumberOfMessages ?? 0) +
        Number(attrs.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    });
  }

  ping(): Promise<void> {
    return atAwsBoundary('reaching the queue', async () => {
      await this.#client.send(
        new GetQueueAttributesCommand({ QueueUrl: this.#url, AttributeNames: ['QueueArn'] }),
      );
    });
  }

  #changeVisibility(receipt: string, seconds: number): Promise<void> {
    return atAwsBoundary('changing message visibility', async () => {
      try {
        await this.#client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.#url,
            ReceiptHandle: receipt,
            VisibilityTimeout: seconds,
          }),
        );
      } catch (error) {
        // Another receiver has the message now (or it is gone): nothing of ours to change.
        if (!isStaleReceipt(error)) throw error;
      }
    });
  }
}

function parseBody(text: string | undefined): { value: unknown } | undefined {
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
