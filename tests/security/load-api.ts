/**
 * The API side of the load run as its own process, so that its event loop and memory are its
 * own: the embedded stack (`startEmbedded`: API, webhook dispatcher, sweeper) over a data
 * folder, keys required, no worker loop (the worker is a separate process on the same folder).
 * Logs JSON lines on stdout; prints `{"type":"api_listening","url":…}` once it serves; SIGTERM
 * stops it gracefully.
 *
 *   node --import tsx tests/security/load-api.ts
 *   env: DITSERVE_DATA_DIR, DITSERVE_MODEL_DIRS, PORT (0 = any)
 */
import { jsonLogger } from '../../core/logger.ts';
import { startEmbedded } from '../../functions/local/embedded.ts';
import { serveUntilSignal } from '../reliability/serve-until-signal.ts';

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const stack = await startEmbedded({
  dataDir: required('DITSERVE_DATA_DIR'),
  host: '127.0.0.1',
  port: Number(env.PORT ?? '0'),
  modelDirs: required('DITSERVE_MODEL_DIRS').split(','),
  device: 'cpu',
  workers: 0,
  maxBatchImages: 8,
  requireKeys: true,
  allowLoopbackWebhooks: false,
  logger: jsonLogger('load-api'),
  pollWaitSeconds: 1,
});
await serveUntilSignal(stack);
