import { read } from '../config.ts';
import { SETTINGS } from '../settings.ts';
import { localBackend } from './local.ts';
import type { Backend } from './types.ts';

/**
 * The backend named by DITSERVE_BACKEND: `local` (a data folder; DITSERVE_DATA_DIR,
 * DITSERVE_PUBLIC_URL for file links) or `aws` (DITSERVE_BUCKET, DITSERVE_JOBS_QUEUE_URL,
 * DITSERVE_WEBHOOK_QUEUE_URL). The AWS SDK is imported only for `aws`.
 */
export async function backendFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: { visibilitySeconds?: number | undefined; publicUrl?: string | undefined } = {},
): Promise<Backend> {
  const kind = read(env, SETTINGS.backend);
  if (kind === 'local') {
    return localBackend({
      dataDir: read(env, SETTINGS.dataDir),
      publicUrl: read(env, SETTINGS.publicUrl, options.publicUrl),
      visibilitySeconds: options.visibilitySeconds,
    });
  }
  if (kind === 'aws') {
    const { awsBackendFromEnv } = await import('./aws.ts');
    return awsBackendFromEnv(env, options);
  }
  throw new Error(`DITSERVE_BACKEND must be local or aws, got "${kind}"`);
}
