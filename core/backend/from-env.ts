import { readString } from '../config.ts';
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
  const kind = readString(env, 'DITSERVE_BACKEND', { default: 'local' });
  if (kind === 'local') {
    return localBackend({
      dataDir: readString(env, 'DITSERVE_DATA_DIR', { default: './data' }),
      publicUrl: readString(env, 'DITSERVE_PUBLIC_URL', {
        option: options.publicUrl,
        default: 'http://127.0.0.1:8080',
      }),
      visibilitySeconds: options.visibilitySeconds,
    });
  }
  if (kind === 'aws') {
    const { awsBackendFromEnv } = await import('./aws.ts');
    return awsBackendFromEnv(env, options);
  }
  throw new Error(`DITSERVE_BACKEND must be local or aws, got "${kind}"`);
}
