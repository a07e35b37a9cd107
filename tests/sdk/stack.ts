import { localBackend } from '../../core/backend/local.ts';
import type { Backend } from '../../core/backend/types.ts';
import type { EmbeddedOptions } from '../../functions/local/embedded.ts';
import { startTestStack } from '../e2e/test-stack.ts';
import { writeTestModel } from '../helpers/test-model.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export interface SdkStack {
  readonly url: string;
  /** The stack's own adapters, to play the worker's part when a test needs every step seen. */
  readonly backend: Backend;
  stop(): Promise<void>;
}

/**
 * A real embedded ditserve (`npm start`'s stack: HTTP API, worker, dispatcher) on a free
 * loopback port, in the open local mode, serving the closed-form test model (8x4 images in a
 * few milliseconds). `workers: 0` keeps every job queued until the test moves it.
 */
export async function startSdkStack(overrides: Partial<EmbeddedOptions> = {}): Promise<SdkStack> {
  const modelDir = await writeTestModel(await tempDir('ditserve-sdk-model-'));
  const dataDir = await tempDir('ditserve-sdk-data-');
  let backend: Backend | undefined;
  const stack = await startTestStack({
    dataDir,
    backend: async (publicUrl) => (backend = await localBackend({ dataDir, publicUrl })),
    modelDirs: [modelDir],
    pollIntervalMs: 25,
    sweepSeconds: 0,
    ...overrides,
  });
  await stack.ready;
  if (!backend) throw new Error('the stack did not build its backend');
  return { url: stack.url, backend, stop: () => stack.stop(5_000) };
}

/** Real fetch, with every request recorded (method, path, headers) for assertions. */
export function recordingFetch(
  inner: (input: string, init: RequestInit) => Promise<Response> = (input, init) =>
    fetch(input, init),
) {
  const calls: { method: string; path: string; headers: Headers }[] = [];
  const wrapped = (input: string, init: RequestInit) => {
    calls.push({
      method: init.method ?? 'GET',
      path: new URL(input).pathname,
      headers: new Headers(init.headers),
    });
    return inner(input, init);
  };
  return { fetch: wrapped, calls };
}
