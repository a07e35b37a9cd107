import { silentLogger } from '../../core/logger.ts';
import { startEmbedded, type EmbeddedOptions } from '../../functions/local/embedded.ts';
import { MODEL_DIR } from '../api/harness.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The embedded stack on a free port and a fresh data folder, quick to stop; options override. */
export async function startTestStack(overrides: Partial<EmbeddedOptions> = {}) {
  return startEmbedded({
    dataDir: overrides.dataDir ?? (await tempDir('ditserve-e2e-')),
    host: '127.0.0.1',
    port: 0,
    modelDirs: [MODEL_DIR],
    device: 'cpu',
    workers: 1,
    maxBatchImages: 8,
    requireKeys: false,
    allowLoopbackWebhooks: true,
    logger: silentLogger,
    pollWaitSeconds: 1,
    ...overrides,
  });
}
