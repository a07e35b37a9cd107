import { awsBackendFromEnv } from '../../core/backend/aws.ts';
import { read } from '../../core/config.ts';
import { SETTINGS } from '../../core/settings.ts';
import { createSweepHandler } from './handler.ts';

const backend = awsBackendFromEnv(process.env);

/** EventBridge → one sweep of the unfinished index (core/jobs/sweep.ts). */
export const handler = createSweepHandler(backend, {
  visibilitySeconds: read(process.env, SETTINGS.visibilitySeconds),
  maxAttempts: read(process.env, SETTINGS.maxAttempts),
  requeueAfterSeconds: read(process.env, SETTINGS.requeueSeconds),
});
