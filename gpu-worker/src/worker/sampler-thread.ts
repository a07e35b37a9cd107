/**
 * The sampler's thread (started by startThreadSampler in thread-sampler.ts, never run directly):
 * loads and warms the models, then runs the main thread's generate() calls, any number at once.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { generate, type DitModel } from '../sampler/index.ts';
import { loadModels } from './load-models.ts';
import { samplerModelOf } from './sampler-port.ts';
import {
  toWire,
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

async function run(
  models: ReadonlyMap<string, DitModel>,
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
    const model = models.get(message.model);
    if (!model) throw new Error(`model ${message.model} is not loaded`);
    poll();
    const results = await generate(model, message.requests, {
      signal: abort.signal,
      onProgress(step, total, elapsedMs) {
        send({ type: 'progress', id, step, total, elapsedMs });
        // Between steps, not inside session.run(): ending the thread there aborts the process.
        if (step === data.exitAfterStepForTests) process.exit(70);
        pollCancels();
      },
    });
    // Transferred, not copied; a set because two images could share one buffer.
    const buffers = new Set(results.map((r) => r.pixels.buffer as ArrayBuffer));
    send({ type: 'result', id, results }, [...buffers]);
  } catch (error) {
    send({ type: 'error', id, error: toWire(error) });
  } finally {
    cancelPolls.delete(poll);
  }
}

/** Every call at once; a release waits for them: it must not free sessions a step runs on. */
function serve(models: ReadonlyMap<string, DitModel>): void {
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

let loaded: Map<string, DitModel> | undefined;
try {
  loaded = await loadModels(data.modelDirs, {
    device: data.device,
    threads: data.threads,
    runner: data.runner,
    stepGraph: data.stepGraph,
  });
} catch (error) {
  // startThreadSampler rejects with this error (its class and code) and ends the thread.
  send({ type: 'failed', error: toWire(error) });
}
if (loaded) serve(loaded);
