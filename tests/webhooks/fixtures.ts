import type { GenerationData, GenerationJob, WebhookTarget } from '../../core/generation.ts';
import type { JobStatus } from '../../core/job.ts';

const PARAMS: GenerationData['params'] = {
  prompt: 'a red circle',
  negativePrompt: '',
  model: 'shapes-mmdit-s',
  width: 64,
  height: 64,
  steps: 8,
  guidanceScale: 4,
  sampler: 'euler',
  seed: 42,
  numImages: 1,
  outputFormat: 'png',
};

/** A generation job in `status` with a webhook to `url` (override anything through `data`). */
export function makeJob(
  status: JobStatus,
  webhook: WebhookTarget | undefined = { url: 'https://hooks.example.com/ditserve' },
  data: Partial<GenerationData> = {},
): GenerationJob {
  const terminal = !['queued', 'running'].includes(status);
  return {
    id: 'gen_test1',
    tenant: 'acme',
    status,
    version: 3,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...(status === 'queued' ? {} : { startedAt: '2025-01-01T00:00:01.000Z' }),
    ...(terminal ? { completedAt: '2025-01-01T00:00:05.000Z' } : {}),
    data: { params: PARAMS, webhook, metadata: { order: 'A-1' }, ...data },
  };
}
