import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Deadlines and bounded retries for every AWS call: one stalled connection must never hold an
 * API request or a worker for long (the SDK's defaults wait on a silent socket indefinitely).
 * A timed-out try is retried like a throttle or a 5xx, up to `maxAttempts` tries in all.
 */
export const AWS_CALLS = {
  connectionTimeoutMs: 3_000,
  /** A socket silent this long is given up on (the try fails and is retried). */
  requestTimeoutMs: 10_000,
  /** SQS long polls are silent for up to 20 s by design: their own client allows for that. */
  longPollTimeoutMs: 30_000,
  maxAttempts: 4,
} as const;

function common(endpoint: string | undefined, requestTimeout: number) {
  return {
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: AWS_CALLS.maxAttempts,
    requestHandler: { connectionTimeout: AWS_CALLS.connectionTimeoutMs, requestTimeout },
  };
}

/** S3 with the call deadlines; an endpoint (moto_server, MinIO) switches to path-style URLs. */
export function s3Client(endpoint?: string): S3Client {
  return new S3Client({
    ...common(endpoint, AWS_CALLS.requestTimeoutMs),
    ...(endpoint ? { forcePathStyle: true } : {}),
  });
}

/** SQS for everything but receiving, and a second client whose deadline outlasts a long poll. */
export function sqsClients(endpoint?: string): { calls: SQSClient; polls: SQSClient } {
  return {
    calls: new SQSClient(common(endpoint, AWS_CALLS.requestTimeoutMs)),
    polls: new SQSClient(common(endpoint, AWS_CALLS.longPollTimeoutMs)),
  };
}
