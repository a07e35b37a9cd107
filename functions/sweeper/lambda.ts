import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { readInt } from '../../core/config.ts';
import { createSweepHandler } from './handler.ts';

const backend = awsBackendFromEnv(process.env);

/** EventBridge → one sweep of the unfinished index (core/jobs/sweep.ts). */
export const handler = createSweepHandler(backend, {
  visibilitySeconds: readInt(process.env, 'DITSERVE_VISIBILITY_SECONDS', { min: 3, max: 43_200 }),
  maxAttempts: readInt(process.env, 'DITSERVE_MAX_ATTEMPTS', { min: 1, max: 100 }),
  requeueAfterSeconds: readInt(process.env, 'DITSERVE_REQUEUE_SECONDS', {
    default: 600,
    min: 1,
    max: 86_400,
  }),
});
