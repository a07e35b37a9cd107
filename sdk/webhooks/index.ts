/**
 * `ditserve/webhooks`: verify ditserve's signed webhooks on the receiving side (docs/webhooks.md).
 */
export { verifyWebhook, WebhookVerificationError } from './verify.ts';
export type {
  VerifyOptions,
  WebhookEvent,
  WebhookEventType,
  WebhookHeaders,
  WebhookVerificationReason,
} from './verify.ts';
