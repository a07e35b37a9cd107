import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Deadlines and bounded retries for every AWS call: one stalled connection must never hold an
 * API request or a worker for long (the SDK's defaults wait on a silent socket indefinitely).
 * A timed-out try is retried like a throttle or a 5xx, up to `maxAttempts` tries in all.
 */
export interface AwsCallPolicy {
  readonly connectionTimeoutMs: number;
  /** A socket silent this long is given up on (the try fails and is retried). */
  readonly requestTimeoutMs: number;
  /** SQS long polls are silent for up to 20 s by design: their own client allows for that. */
  readonly longPollTimeoutMs: number;
  /** Tries in all, the first one included. */
  readonly maxAttempts: number;
}

export const AWS_CALLS: AwsCallPolicy = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
  longPollTimeoutMs: 30_000,
  maxAttempts: 4,
};

function common(endpoint: string | undefined, policy: AwsCallPolicy, requestTimeout: number) {
  return {
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: policy.maxAttempts,
    requestHandler: {
      connectionTimeout: policy.connectionTimeoutMs,
      requestTimeout,
      // Without it the handler only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
    },
  };
}

/** S3 with the call deadlines; an endpoint (moto_server, MinIO) switches to path-style URLs. */
export function s3Client(endpoint?: string, policy: AwsCallPolicy = AWS_CALLS): S3Client {
  return new S3Client({
    ...common(endpoint, policy, policy.requestTimeoutMs),
    ...(endpoint ? { forcePathStyle: true } : {}),
  });
}

/** SQS for everything but receiving, and a second client whose deadline outlasts a long poll. */
export function sqsClients(
  endpoint?: string,
  policy: AwsCallPolicy = AWS_CALLS,
): { calls: SQSClient; polls: SQSClient } {
  return {
    calls: new SQSClient(common(endpoint, policy, policy.requestTimeoutMs)),
    polls: new SQSClient(common(endpoint, policy, policy.longPollTimeoutMs)),
  };
}
