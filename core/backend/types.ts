import type { JobMessage, WebhookEventMessage } from '../generation.ts';
import type { BlobStore } from '../ports/blob-store.ts';
import type { DeliveryLog } from '../ports/delivery-log.ts';
import type { JobStore } from '../ports/job-store.ts';
import type { KeyStore } from '../ports/key-store.ts';
import type { MessageQueue } from '../ports/message-queue.ts';

/** Every adapter a ditserve process needs, from one backend (local folder or AWS). */
export interface Backend {
  readonly kind: 'local' | 'aws';
  readonly jobs: JobStore;
  readonly queue: MessageQueue<JobMessage>;
  readonly outbox: MessageQueue<WebhookEventMessage>;
  readonly blobs: BlobStore;
  readonly keys: KeyStore;
  readonly deliveryLog: DeliveryLog;
  /** Local only: verifies the signed /v1/files URLs that `blobs` hands out. */
  readonly verifyFile?:
    ((key: string, expires: number, sig: string, now: Date) => boolean) | undefined;
}
