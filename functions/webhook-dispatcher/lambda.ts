import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { webhookPolicyFromEnv } from '../../core/webhooks/url-policy.ts';
import { createWebhookHandler } from './handler.ts';

const backend = awsBackendFromEnv(process.env);

/** SQS → signed POSTs; retries go back to the outbox with a delay (see dispatch.ts). */
export const handler = createWebhookHandler({
  policy: webhookPolicyFromEnv(process.env),
  keys: backend.keys,
  log: backend.deliveryLog,
  outbox: backend.outbox,
});
