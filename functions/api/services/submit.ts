import { createHash } from 'node:crypto';
import type { GenerationData, GenerationJob, GenerationParams } from '../../../core/generation.ts';
import { KEYS } from '../../../core/storage-layout.ts';
import { settle } from '../../../core/jobs/settle.ts';
import { end } from '../../../core/jobs/transitions.ts';
import { updateJob } from '../../../core/jobs/update-job.ts';
import {
  JobNotFoundError,
  StoreUnavailableError,
  VersionConflictError,
} from '../../../core/ports/job-store.ts';
import type { ApiDeps, ApiLimits } from '../deps.ts';
import {
  ContentPolicyError,
  IdempotencyConflictError,
  RateLimitedError,
  ValidationError,
} from '../errors.ts';
import type { GenerationCreateBody } from '../schemas/generation.ts';
import { nextJobId } from '../../../core/ids.ts';
import { blocklistPolicy, type PromptPolicy } from './prompt-policy.ts';
import { QueuedCounter } from './queue-stats.ts';
import { resolveParams } from './resolve-params.ts';
import { videoInputs } from './video-inputs.ts';
import { ensureWebhookSecret } from './webhook-secret.ts';

export interface Caller {
  readonly tenant: string;
  readonly keyId: string | undefined;
  readonly requestId: string;
}

export interface Submitted {
  readonly job: GenerationJob;
  /** True when an Idempotency-Key matched an earlier request: nothing new was created. */
  readonly replayed: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with sorted keys, so that {a,b} and {b,a} fingerprint alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const defaultPolicy = blocklistPolicy();

/** One counter per job store (so per deployment, and fresh for every test's store). */
const counters = new WeakMap<object, QueuedCounter>();
function queuedCounterFor(jobs: ApiDeps['jobs']): QueuedCounter {
  let counter = counters.get(jobs);
  if (!counter) {
    counter = new QueuedCounter(jobs);
    counters.set(jobs, counter);
  }
  return counter;
}

async function checkBackpressure(deps: ApiDeps, tenant: string, limits: ApiLimits): Promise<void> {
  const max = limits.maxQueuedPerTenant;
  if ((await queuedCounterFor(deps.jobs).count(tenant, max)) >= max) {
    throw new RateLimitedError(
      'too_many_queued',
      `${max} generations are already queued for this tenant; wait for some to finish`,
      5,
    );
  }
}

/** Every text field through the policy: what the model reads, the negative prompt included. */
async function checkPolicy(
  policy: PromptPolicy,
  tenant: string,
  fields: readonly (readonly [string, string | undefined])[],
): Promise<void> {
  for (const [field, text] of fields) {
    if (!text) continue;
    const decision = await policy(text, { tenant, field });
    if (!decision.allowed) throw new ContentPolicyError(decision.reason, field);
  }
}

/**
 * Validates a request against its model, applies the prompt policy and backpressure, honours
 * the Idempotency-Key, stores the job (queued) and enqueues its id. If the enqueue fails the
 * caller gets 503 and the job is failed, or kept for a retry with the same key (see abandon);
 * a job left queued without a message is found by the sweeper.
 */
export async function submitGeneration(
  deps: ApiDeps,
  limits: ApiLimits,
  caller: Caller,
  body: GenerationCreateBody,
  idempotencyKey: string | undefined,
  now: Date,
): Promise<Submitted> {
  const resolved = resolveParams(body, deps.models);
  const { warnings } = resolved;
  const video = resolved.model.video;
  const inputs =
    video && resolved.params.modality === 'video'
      ? await videoInputs(
          deps.jobs,
          caller.tenant,
          body,
          resolved.params,
          video,
          limits.maxInitImageBytes,
        )
      : undefined;
  let params: GenerationParams = inputs?.params ?? resolved.params;
  await checkPolicy(deps.promptPolicy ?? defaultPolicy, caller.tenant, [
    ['prompt', params.prompt],
    ['negative_prompt', params.negativePrompt],
  ]);
  if (body.webhook && deps.checkWebhookUrl) {
    const reason = deps.checkWebhookUrl(body.webhook.url);
    // Its own code (as the dispatcher's refusal), with the field like any other 422.
    if (reason) {
      throw new ValidationError(
        [{ field: 'webhook.url', message: reason, allowed: 'a public https URL' }],
        'webhook_url_refused',
      );
    }
  }
  // Deliveries are signed: make sure the tenant has a secret before the first event exists.
  if (body.webhook) await ensureWebhookSecret(deps.keys, caller.tenant, now);

  let jobId = nextJobId(now.getTime());
  let createdAt = now.toISOString();
  if (idempotencyKey !== undefined) {
    const fingerprint = sha256(canonical(body));
    const existing = await deps.jobs.claimIdempotencyKey(caller.tenant, {
      keyHash: sha256(idempotencyKey),
      fingerprint,
      jobId,
      createdAt: now.toISOString(),
    });
    if (existing) {
      if (existing.fingerprint !== fingerprint) {
        throw new IdempotencyConflictError(
          'this Idempotency-Key was already used with a different request body',
        );
      }
      try {
        return await replay(deps, caller, existing.jobId);
      } catch (error) {
        // The first request claimed the key but died before storing its job: finish its work.
        if (!(error instanceof JobNotFoundError)) throw error;
        // Its id and time, so that any index entry it wrote names this very job.
        jobId = existing.jobId;
        createdAt = existing.createdAt;
      }
    }
  }

  await checkBackpressure(deps, caller.tenant, limits);
  if (params.modality === 'video') {
    // Stored before the job, so that a worker that gets the job can always read it.
    let initImageKey: string | undefined;
    if (inputs?.initImage) {
      const { bytes, contentType, ext } = inputs.initImage;
      initImageKey = KEYS.input(caller.tenant, jobId, `init.${ext}`);
      await deps.blobs.put(initImageKey, bytes, contentType);
    }
    params = { ...params, initImageKey, extendOf: inputs?.extendOf };
  }
  const job: GenerationJob = {
    id: jobId,
    tenant: caller.tenant,
    status: 'queued',
    version: 1,
    createdAt,
    data: {
      params,
      webhook: body.webhook,
      metadata: body.metadata,
      keyId: caller.keyId,
      warnings: warnings.length ? warnings : undefined,
      expiresAt: new Date(now.getTime() + limits.queuedJobTtlSeconds * 1000).toISOString(),
    },
  };
  try {
    await deps.jobs.create(job);
  } catch (error) {
    if (!(error instanceof VersionConflictError)) {
      await abandon(deps, job, idempotencyKey, now);
      throw error;
    }
    // Another request with the same key (the first, or a retry finishing its work) stored the
    // job under this id first: this one is a replay of it.
    if (idempotencyKey === undefined) throw error;
    return replay(deps, caller, jobId);
  }
  try {
    await deps.queue.send({ tenant: caller.tenant, jobId, traceId: caller.requestId });
    queuedCounterFor(deps.jobs).submitted(caller.tenant);
  } catch (error) {
    await abandon(deps, job, idempotencyKey, now);
    throw new StoreUnavailableError(
      idempotencyKey === undefined
        ? 'the job queue is unavailable; nothing was queued, retry'
        : 'the job queue is unavailable; retry with the same Idempotency-Key',
      { cause: error },
    );
  }
  return { job, replayed: false };
}

/**
 * A submit that failed after the job may have been stored. With an Idempotency-Key the job stays
 * queued: the client's retry replays it and sends its message. Without one, a retry makes a new
 * job, so this one is failed, or, if even that fails, left for the sweeper to send.
 */
async function abandon(
  deps: ApiDeps,
  job: GenerationJob,
  idempotencyKey: string | undefined,
  now: Date,
): Promise<void> {
  if (idempotencyKey !== undefined) return;
  try {
    await markUnqueued(deps, job, now);
  } catch (failure) {
    if (failure instanceof JobNotFoundError) return;
    deps.logger?.warn('an unqueued job could not be marked failed', {
      jobId: job.id,
      error: String(failure),
    });
  }
}

/**
 * The job an earlier request with the same Idempotency-Key created. If it is still queued, its
 * message is sent again: that request may have died between storing the job and enqueueing it,
 * and a duplicate message is harmless (only one worker's claim can win).
 */
async function replay(deps: ApiDeps, caller: Caller, jobId: string): Promise<Submitted> {
  const job = await deps.jobs.get<GenerationData>(caller.tenant, jobId);
  if (job.status === 'queued') {
    await deps.queue.send({ tenant: caller.tenant, jobId, traceId: caller.requestId });
  }
  return { job, replayed: true };
}

async function markUnqueued(deps: ApiDeps, job: GenerationJob, now: Date): Promise<void> {
  const failed = await updateJob(deps.jobs, job.tenant, job.id, (current) =>
    end(current, 'failed', now, {
      code: 'store_unavailable',
      message: 'the job could not be queued',
      retryable: true,
    }),
  );
  if (failed.changed) await settle(deps, failed.job);
}
