import type { GenerationJob, JobMessage } from '../../../core/generation.ts';
import type { Delivery } from '../../../core/ports/message-queue.ts';
import type { GenerationRequest, GenerationResult } from '../sampler/index.ts';
import type { WorkerContext } from './context.ts';
import type { Claimed, JobActions } from './job-actions.ts';
import { storeOutputs } from './outputs.ts';
import { ProgressWriter } from './progress-writer.ts';

/** A received job that triage said should run; it is claimed when its batch starts. */
export interface Received {
  readonly delivery: Delivery<JobMessage>;
  readonly job: GenerationJob;
}

function requestsOf(c: Claimed): GenerationRequest[] {
  const p = c.job.data.params;
  return Array.from({ length: p.numImages }, (_, n) => ({
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    seed: p.seed + n,
    steps: p.steps,
    guidanceScale: p.guidanceScale,
    width: p.width,
    height: p.height,
    sampler: p.sampler,
  }));
}

/**
 * One sampler batch of compatible jobs:
 * (1) claim each job (its attempt is charged now);
 * (2) run the sampler, writing progress and watching for cancels while it computes;
 * (3) store each job's outputs and end it succeeded; or hand the jobs back (drain), or fail them.
 * `drain` aborts the run at its next step when the worker must stop now.
 */
export async function runBatch(
  c: WorkerContext,
  actions: JobActions,
  group: readonly Received[],
  drain: AbortSignal,
): Promise<void> {
  // (1) Claim.
  const claimed: Claimed[] = [];
  for (const r of group) {
    await actions.guard(`claiming ${r.job.id}`, async () => {
      const job = await actions.claim(r.delivery, r.job);
      if (job) claimed.push(job);
    });
  }
  const first = claimed[0];
  if (!first) return;
  const model = first.job.data.params.model;

  // (2) Sample.
  const abort = new AbortController();
  const onDrain = () => {
    abort.abort(new Error('drain'));
  };
  drain.addEventListener('abort', onDrain);
  const writer = new ProgressWriter(c, actions, claimed, abort);
  const started = performance.now();
  let results: GenerationResult[] | undefined;
  let failure: unknown;
  try {
    results = await c.sampler.generate(model, claimed.flatMap(requestsOf), {
      onProgress: writer.onStep,
      signal: abort.signal,
    });
  } catch (error) {
    failure = error;
  } finally {
    drain.removeEventListener('abort', onDrain);
  }
  await writer.flush();
  const inferenceMs = Math.round(performance.now() - started);

  // (3) Outcomes, job by job; the ones that left the batch (canceled, taken over) are done.
  const label = `${model}@${c.sampler.models.get(model)?.version ?? 'unknown'}`;
  let offset = 0;
  for (const job of claimed) {
    const images = results?.slice(offset, offset + job.job.data.params.numImages);
    offset += job.job.data.params.numImages;
    if (writer.left.has(job.job.id)) continue;
    await actions.guard(`finishing ${job.job.id}`, async () => {
      if (images) {
        const stored = await storeOutputs(c.blobs, job.job, images, label);
        const queueMs = job.job.startedAt
          ? Date.parse(job.job.startedAt) - Date.parse(job.job.createdAt)
          : undefined;
        await actions.succeed(job, stored.outputs, {
          queueMs,
          inferenceMs,
          encodeMs: Math.round(stored.encodeMs),
          uploadMs: Math.round(stored.uploadMs),
        });
      } else if (drain.aborted) {
        await actions.release(job, { kind: 'drain' });
      } else {
        await actions.fail(job, failure);
      }
    });
  }
}
