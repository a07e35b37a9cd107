import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueApiKey } from '../../core/auth/api-keys.ts';
import type { GenerationData, GenerationJob, JobMessage } from '../../core/generation.ts';
import { transition } from '../../core/job.ts';
import { MemoryBlobStore } from '../../core/adapters/memory/memory-blob-store.ts';
import { MemoryJobStore } from '../../core/adapters/memory/memory-job-store.ts';
import { MemoryKeyStore } from '../../core/adapters/memory/memory-key-store.ts';
import { MemoryMessageQueue } from '../../core/adapters/memory/memory-message-queue.ts';
import { loadModelCatalog } from '../../gpu-worker/src/model-contract/index.ts';
import { createApp } from '../../functions/api/app.ts';
import type { ApiDeps } from '../../functions/api/deps.ts';
import type { WebhookEventMessage } from '../../core/generation.ts';

export const MODEL_DIR = new URL('../../models/shapes-mmdit-s', import.meta.url).pathname;

/** The shipped model's default steps (picked on validation prompts at training time). */
export const SHIPPED_STEPS = (
  JSON.parse(readFileSync(join(MODEL_DIR, 'model_index.json'), 'utf8')) as {
    ditserve: { defaults: { steps: number } };
  }
).ditserve.defaults.steps;

/** The API over in-memory adapters and the shipped model's manifest, with two tenants' keys. */
export async function makeApi(overrides: Partial<ApiDeps> = {}) {
  const jobs = new MemoryJobStore();
  const queue = new MemoryMessageQueue<JobMessage>();
  const outbox = new MemoryMessageQueue<WebhookEventMessage>();
  const blobs = new MemoryBlobStore();
  const keys = new MemoryKeyStore();
  const models = await loadModelCatalog([MODEL_DIR]);
  const alice = await issueApiKey(keys, 'tenant-alice', 'alice test key');
  const bob = await issueApiKey(keys, 'tenant-bob', 'bob test key');
  const deps: ApiDeps = {
    jobs,
    queue,
    outbox,
    blobs,
    keys,
    models,
    auth: { kind: 'keys' },
    pollIntervalMs: 10,
    ...overrides,
  };
  const app = createApp(deps);
  const call = (
    key: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { app, deps, jobs, queue, outbox, blobs, keys, alice: alice.key, bob: bob.key, call };
}

/** Plays the worker's part on the store: run a job and finish it with one stored image. */
export async function completeJob(
  jobs: MemoryJobStore,
  blobs: MemoryBlobStore,
  tenant: string,
  id: string,
  image: Uint8Array = new Uint8Array([137, 80, 78, 71]),
): Promise<GenerationJob> {
  const queued = await jobs.get<GenerationData>(tenant, id);
  const running = transition(queued, 'running', new Date());
  await jobs.put(running, queued.version);
  const key = `jobs/${tenant}/${id}/out/0.png`;
  await blobs.put(key, image, 'image/png');
  const done: GenerationJob = {
    ...transition(running, 'succeeded', new Date()),
    data: {
      ...running.data,
      outputs: [
        {
          key,
          index: 0,
          seed: running.data.params.seed,
          contentType: 'image/png',
          bytes: image.byteLength,
          width: running.data.params.width,
          height: running.data.params.height,
        },
      ],
    },
  };
  await jobs.put(done, running.version);
  return done;
}
