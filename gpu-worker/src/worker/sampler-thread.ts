/**
 * The sampler's thread (started by startThreadSampler in thread-sampler.ts, never run directly):
 * loads and warms the models, then runs the main thread's generate() calls, any number at once.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { generate, type GenerateOptions } from '../sampler/index.ts';
import { generateVideos } from '../sampler/video/index.ts';
import { loadModels, type LoadedModel } from './load-models.ts';
import { imageModel, samplerModelOf, videoModel } from './sampler-port.ts';
import {
  buffersOf,
  toWire,
  type SamplerOutput,
  type SamplerWork,
  type FromThread,
  type ThreadData,
  type ToThread,
} from './sampler-thread-protocol.ts';

if (isMainThread || !parentPort) {
  throw new Error('sampler-thread runs as a worker thread of startThreadSampler()');
}
const port = parentPort;
const send = (message: FromThread, transfer?: ArrayBuffer[]) => {
  port.postMessage(message, transfer);
};

const data = workerData as ThreadData;

/**
 * The calls' cancel flags, polled together: a call waiting for a batch slot makes no progress of
 * its own, so after any call's step every call's flag is read, and a cancel frees its slot at
 * the next step boundary.
 */
const cancelPolls = new Set<() => void>();
const pollCancels = () => {
  for (const poll of cancelPolls) poll();
};

/** Runs a call's work on the model it names, which must make that kind of output. */
async function perform(
  models: ReadonlyMap<string, LoadedModel>,
  name: string,
  work: SamplerWork,
  options: GenerateOptions,
): Promise<SamplerOutput> {
  if (work.kind === 'images') {
    return {
      kind: 'images',
      results: await generate(imageModel(models, name), work.requests, options),
    };
  }
  return {
    kind: 'videos',
    clips: await generateVideos(videoModel(models, name), work.clips, options),
  };
}

async function run(
  models: ReadonlyMap<string, LoadedModel>,
  message: Extract<ToThread, { type: 'generate' }>,
): Promise<void> {
  const { id } = message;
  const cancel = new Int32Array(message.cancel);
  const abort = new AbortController();
  // The caller's abort arrives through shared memory, not a message: a message would wait for
  // this thread's event loop, which generate() may keep busy. generate() checks the signal
  // before every step, and this runs after every step, so at most the step in flight finishes.
  const poll = () => {
    if (!abort.signal.aborted && Atomics.load(cancel, 0) !== 0) abort.abort();
  };
  cancelPolls.add(poll);
  try {
    poll();
    const output = await perform(models, message.model, message.work, {
      signal: abort.signal,
      onProgress(step, total, elapsedMs) {
        send({ type: 'progress', id, step, total, elapsedMs });
        // Between steps, not inside session.run(): ending the thread there aborts the process.
        if (step === data.exitAfterStepForTests) process.exit(70);
        pollCancels();
      },
    });
    // Transferred, not copied.
    send({ type: 'result', id, output }, buffersOf(output));
  } catch (error) {
    send({ type: 'error', id, error: toWire(error) });
  } finally {
    cancelPolls.delete(poll);
  }
}

/** Every call at once; a release waits for them: it must not free sessions a step runs on. */
function serve(models: ReadonlyMap<string, LoadedModel>): void {
  send({
    type: 'ready',
    models: [...models].map(([name, m]) => samplerModelOf(name, m)),
  });
  const running = new Set<Promise<void>>();
  let releasing = false;
  port.on('message', (message: ToThread) => {
    if (message.type === 'generate') {
      if (releasing) {
        send({
          type: 'error',
          id: message.id,
          error: toWire(new Error('the sampler has been released')),
        });
        return;
      }
      const call = run(models, message).finally(() => running.delete(call));
      running.add(call);
      return;
    }
    releasing = true;
    void (async () => {
      await Promise.all(running);
      await Promise.all([...models.values()].map((m) => m.release()));
      send({ type: 'released' });
      port.close();
    })();
  });
}

let loaded: Map<string, LoadedModel> | undefined;
try {
  loaded = await loadModels(data.modelDirs, {
    device: data.device,
    threads: data.threads,
    runner: data.runner,
    opsDir: data.opsDir,
    stepGraph: data.stepGraph,
  });
} catch (error) {
  // startThreadSampler rejects with this error (its class and code) and ends the thread.
  send({ type: 'failed', error: toWire(error) });
}
if (loaded) serve(loaded);
