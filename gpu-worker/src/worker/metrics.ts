import type { WorkerEvent } from './state.ts';

/**
 * CloudWatch embedded metric format: one JSON line per finished job on stdout, which the awslogs
 * driver ships and CloudWatch turns into metrics (no SDK calls, no extra latency).
 */
export function emfLine(
  event: WorkerEvent,
  namespace = 'ditserve',
  now = Date.now(),
): string | undefined {
  if (event.type !== 'job_finished' && event.type !== 'error') return undefined;
  const metrics =
    event.type === 'error'
      ? { WorkerErrors: 1 }
      : {
          JobsFinished: 1,
          [`Jobs${event.status[0]?.toUpperCase() ?? ''}${event.status.slice(1)}`]: 1,
          ...(event.timings.queueMs !== undefined ? { QueueMs: event.timings.queueMs } : {}),
          ...(event.timings.inferenceMs !== undefined
            ? { InferenceMs: event.timings.inferenceMs }
            : {}),
          ...(event.timings.encodeMs !== undefined ? { EncodeMs: event.timings.encodeMs } : {}),
          ...(event.timings.uploadMs !== undefined ? { UploadMs: event.timings.uploadMs } : {}),
        };
  const units: Record<string, string> = {
    QueueMs: 'Milliseconds',
    InferenceMs: 'Milliseconds',
    EncodeMs: 'Milliseconds',
    UploadMs: 'Milliseconds',
  };
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [['Service']],
          Metrics: Object.keys(metrics).map((name) => ({
            Name: name,
            Unit: units[name] ?? 'Count',
          })),
        },
      ],
    },
    Service: 'gpu-worker',
    ...(event.type === 'job_finished'
      ? { jobId: event.jobId, status: event.status }
      : { message: event.message }),
    ...metrics,
  });
}
