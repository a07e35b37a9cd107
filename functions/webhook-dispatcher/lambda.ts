import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { createWebhookHandler } from './handler.ts';

const backend = awsBackendFromEnv(process.env);

/** SQS → signed POSTs; retries go back to the outbox with a delay (see dispatch.ts). */
export const handler = createWebhookHandler({
  keys: backend.keys,
  log: backend.deliveryLog,
  outbox: backend.outbox,
});
