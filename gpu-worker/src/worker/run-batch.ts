import type { GenerationJob, JobMessage } from '../../../core/generation.ts';
import type { Delivery } from '../../../core/ports/message-queue.ts';
import {
  perImageRequests,
  type GenerateOptions,
  type GenerationRequest,
  type GenerationResult,
} from '../sampler/index.ts';
import type { VideoClipRequest, VideoResult } from '../sampler/video/index.ts';
import type { WorkerContext } from './context.ts';
import type { Claimed, JobActions } from './job-actions.ts';
import { storeOutputs, type StoredOutputs } from './outputs.ts';
import { ProgressWriter } from './progress-writer.ts';
import { videoClipsOf } from './video-inputs.ts';
import { storeClipOutputs } from './video-outputs.ts';

/** A received job that triage said should run; it is claimed when its batch starts. */
export interface Received {
  readonly delivery: Delivery<JobMessage>;
  readonly job: GenerationJob;
}

/**
 * How a batch's jobs become sampler work and files: images or clips. A job's requests are one
 * per image (clip), in order, so results are split back by numImages.
 */
interface BatchKind<Request, Result> {
  /** Reads what the job names (an init image, a clip to extend); rejects where it cannot. */
  requestsOf(c: WorkerContext, job: GenerationJob): Promise<Request[]>;
  sample(
    c: WorkerContext,
    model: string,
    requests: readonly Request[],
    options: GenerateOptions,
  ): Promise<Result[]>;
  store(
    c: WorkerContext,
    job: GenerationJob,
    results: readonly Result[],
    label: string,
  ): Promise<StoredOutputs>;
}

const IMAGES: BatchKind<GenerationRequest, GenerationResult> = {
  requestsOf: (_c, job) => Promise.resolve(perImageRequests(job.data.params)),
  sample: (c, model, requests, options) => c.sampler.generate(model, requests, options),
  store: (c, job, results, label) => storeOutputs(c.blobs, job, results, label),
};

const VIDEOS: BatchKind<VideoClipRequest, VideoResult> = {
  requestsOf: (c, job) => {
    const p = job.data.params;
    if (p.modality !== 'video') throw new Error(`${job.id} is not a video job`);
    return videoClipsOf(c.blobs, job, p);
  },
  sample: (c, model, clips, options) => c.sampler.generateVideos(model, clips, options),
  store: (c, job, clips, label) => storeClipOutputs(c.blobs, job, clips, label, c.settings.ffmpeg),
};

/**
 * One sampler batch of compatible jobs (one modality: batchKey keeps them apart), images or
 * clips as the first job says.
 */
export function runBatch(
  c: WorkerContext,
  actions: JobActions,
  group: readonly Received[],
  drain: AbortSignal,
): Promise<void> {
  const video = group[0]?.job.data.params.modality === 'video';
  return video
    ? runBatchOf(VIDEOS, c, actions, group, drain)
    : runBatchOf(IMAGES, c, actions, group, drain);
}

/**
 * One sampler batch of compatible jobs:
 * (1) claim each job (its attempt is charged now) and read its inputs: a job whose inputs
 *     cannot be read fails alone (for good when they are gone or do not decode);
 * (2) run the sampler, writing progress and watching for cancels while it computes;
 * (3) store each job's outputs and end it succeeded; or hand the jobs back (drain), or fail them.
 * `drain` aborts the run at its next step when the worker must stop now.
 */
async function runBatchOf<Request, Result>(
  kind: BatchKind<Request, Result>,
  c: WorkerContext,
  actions: JobActions,
  group: readonly Received[],
  drain: AbortSignal,
): Promise<void> {
  // (1) Claim, and read what each job names.
  const claimed: Claimed[] = [];
  const requests: Request[] = [];
  for (const r of group) {
    await actions.guard(`claiming ${r.job.id}`, async () => {
      const job = await actions.claim(r.delivery, r.job);
      if (!job) return;
      let own: Request[];
      try {
        own = await kind.requestsOf(c, job.job);
      } catch (error) {
        await actions.fail(job, error);
        return;
      }
      claimed.push(job);
      requests.push(...own);
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
  let results: Result[] | undefined;
  let failure: unknown;
  try {
    results = await kind.sample(c, model, requests, {
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
        // A failing encoder or store throws to the guard: the message comes back after its
        // visibility timeout (a retry at once would charge attempts while the store is down).
        const stored = await kind.store(c, job.job, images, label);
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
