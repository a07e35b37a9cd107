import { setImmediate as nextTurn } from 'node:timers/promises';
import { CudaBoundSession } from '../../runner/cuda-bound-session.ts';
import type { CudaRuntime, DevicePtr, Event, Stream } from '../../runner/cuda-runtime.ts';
import { checkSlot } from './host-step-engine.ts';
import {
  checkedExtras,
  count,
  perSample,
  type SampleExtras,
  type SampleText,
  type StepEngine,
  type StepParams,
  type StepShape,
} from './step-engine.ts';

/**
 * The StepEngine on the GPU: the step graph's inputs and outputs are device buffers bound once,
 * the step is one CUDA-graph replay, and a sample's latent goes to the device at load() and
 * comes back at read(), never in between. Per step the host sends 12 bytes per slot (σ, σ', g)
 * and waits for the step before (so a cancel lands within one step, and progress lags by one).
 */

export interface CudaGraphEngineOptions {
  readonly path: string;
  readonly capacity: number;
  readonly shape: StepShape;
  readonly cuda: CudaRuntime;
  readonly stream: Stream;
  readonly deviceId?: number;
  /** false runs the same bound session without capture (for comparison). */
  readonly cudaGraph?: boolean;
  /** onnxruntime's profiler (benches: with cudaGraph false, to see every node). */
  readonly profilePrefix?: string;
  readonly optimizedModelPath?: string;
  /** ditserve's custom-op library, where the model's graphs use it (manifest custom_ops). */
  readonly customOpsLibrary?: string | undefined;
}

const F32 = 4;

export interface CudaGraphStepEngineHandle extends StepEngine {
  endProfiling(): string | null;
}

export async function openCudaGraphStepEngine(
  o: CudaGraphEngineOptions,
): Promise<CudaGraphStepEngineHandle> {
  const b = o.capacity;
  const { latent, textLength: l, textWidth: d } = o.shape;
  const per = perSample(o.shape);
  const sizes = {
    latents: b * per,
    next: b * per,
    params: 3 * b,
    hidden: 2 * b * l * d,
    pooled: 2 * b * d,
  };
  const extraDims = Object.entries(o.shape.extras ?? {});
  const ptrs: DevicePtr[] = [];
  const alloc = (floats: number): DevicePtr => {
    const p = o.cuda.malloc(floats * F32);
    ptrs.push(p);
    return p;
  };
  let session: CudaBoundSession | null = null;
  try {
    const buf = {
      latents: alloc(sizes.latents),
      next: alloc(sizes.next),
      params: alloc(sizes.params),
      hidden: alloc(sizes.hidden),
      pooled: alloc(sizes.pooled),
    };
    const extras = new Map(
      extraDims.map(([name, dims]) => [name, { dims, ptr: alloc(b * count(dims)) }]),
    );
    for (const [name, floats] of Object.entries(sizes)) {
      o.cuda.upload(buf[name as keyof typeof buf], new Float32Array(floats), o.stream);
    }
    for (const { dims, ptr } of extras.values()) {
      o.cuda.upload(ptr, new Float32Array(b * count(dims)), o.stream);
    }
    // [C, h, w] or [C, F, h, w]: the free dimensions the graph names.
    const grid =
      latent.length === 4
        ? { frames: latent[1] ?? 1, height: latent[2] ?? 1, width: latent[3] ?? 1 }
        : { height: latent[1] ?? 1, width: latent[2] ?? 1 };
    session = await CudaBoundSession.open(o.path, {
      ...(o.deviceId === undefined ? {} : { deviceId: o.deviceId }),
      stream: o.stream,
      cudaGraph: o.cudaGraph ?? true,
      freeDimensions: { batch: b, ...grid },
      ...(o.profilePrefix === undefined ? {} : { profilePrefix: o.profilePrefix }),
      ...(o.optimizedModelPath === undefined ? {} : { optimizedModelPath: o.optimizedModelPath }),
      ...(o.customOpsLibrary === undefined ? {} : { customOpsLibrary: o.customOpsLibrary }),
    });
    session.bind(
      {
        latents: { ptr: buf.latents, dims: [b, ...latent] },
        sigma: { ptr: buf.params, dims: [b] },
        sigma_next: { ptr: buf.params + BigInt(b * F32), dims: [b] },
        guidance_scale: { ptr: buf.params + BigInt(2 * b * F32), dims: [b] },
        encoder_hidden_states: { ptr: buf.hidden, dims: [2, b, l, d] },
        pooled_projections: { ptr: buf.pooled, dims: [2, b, d] },
        ...Object.fromEntries(
          [...extras].map(([name, { dims, ptr }]) => [name, { ptr, dims: [b, ...dims] }]),
        ),
      },
      { latents_next: { ptr: buf.next, dims: [b, ...latent] } },
    );
    // Warm-up and capture on zeros (σ' = σ: nothing moves), before any sample is loaded.
    for (let k = 0; k < 3; k++) session.run();
    o.cuda.synchronize(o.stream);
    return new CudaGraphStepEngine(o, buf, extras, session, ptrs);
  } catch (error) {
    session?.release();
    for (const p of ptrs) o.cuda.free(p);
    throw error;
  }
}

class CudaGraphStepEngine implements CudaGraphStepEngineHandle {
  readonly capacity: number;
  readonly shape: StepShape;
  readonly #per: number;
  readonly #params: Float32Array;
  /** [the event of the step before, a free one]. */
  #events: [Event, Event];
  #pending = false;
  #released = false;

  constructor(
    private readonly o: CudaGraphEngineOptions,
    private readonly buf: Readonly<
      Record<'latents' | 'next' | 'params' | 'hidden' | 'pooled', DevicePtr>
    >,
    /** The further inputs' device buffers ([capacity, …dims] each), by name. */
    private readonly extras: ReadonlyMap<string, { readonly ptr: DevicePtr }>,
    private readonly session: CudaBoundSession,
    private readonly ptrs: readonly DevicePtr[],
  ) {
    this.capacity = o.capacity;
    this.shape = o.shape;
    this.#per = perSample(o.shape);
    this.#params = new Float32Array(3 * o.capacity);
    this.#events = [o.cuda.createEvent(), o.cuda.createEvent()];
  }

  #at(base: DevicePtr, floats: number): DevicePtr {
    return base + BigInt(floats * F32);
  }

  load(
    slot: number,
    latents: Float32Array,
    text: SampleText,
    extras?: SampleExtras,
  ): Promise<void> {
    checkSlot(slot, this.capacity);
    const { cuda, stream } = this.o;
    for (const { name, per, data } of checkedExtras(this.shape, extras)) {
      const base = this.extras.get(name)?.ptr;
      if (base !== undefined) cuda.upload(this.#at(base, slot * per), data, stream);
    }
    const b = this.capacity;
    const { textLength: l, textWidth: d } = this.shape;
    cuda.upload(this.#at(this.buf.latents, slot * this.#per), latents, stream);
    cuda.upload(this.#at(this.buf.hidden, slot * l * d), text.condHidden, stream);
    cuda.upload(this.#at(this.buf.hidden, (b + slot) * l * d), text.uncondHidden, stream);
    cuda.upload(this.#at(this.buf.pooled, slot * d), text.condPooled, stream);
    cuda.upload(this.#at(this.buf.pooled, (b + slot) * d), text.uncondPooled, stream);
    return Promise.resolve();
  }

  async step(params: StepParams): Promise<void> {
    const { cuda, stream } = this.o;
    const b = this.capacity;
    this.#params.set(params.sigma, 0);
    this.#params.set(params.sigmaNext, b);
    this.#params.set(params.guidance, 2 * b);
    cuda.upload(this.buf.params, this.#params, stream);
    this.session.run();
    cuda.copy(this.buf.latents, this.buf.next, b * this.#per * F32, stream);
    // One step in flight: this step is queued behind the previous one, and the host waits only
    // for that previous one, so its own work for the next step overlaps the GPU's. Progress
    // thus trails the GPU by at most one step; read() waits for everything. The wait polls
    // between turns of the event loop rather than blocking in cudaEventSynchronize, so that
    // other work of this thread (another call's text, noise and pixels) runs while the GPU steps.
    const [done, queued] = this.#events;
    cuda.record(queued, stream);
    this.#events = [queued, done];
    const wasPending = this.#pending;
    this.#pending = true;
    if (wasPending) while (!cuda.passed(done)) await nextTurn();
  }

  read(slot: number): Promise<Float32Array> {
    checkSlot(slot, this.capacity);
    const out = new Float32Array(this.#per);
    this.o.cuda.download(out, this.#at(this.buf.latents, slot * this.#per), this.o.stream);
    return Promise.resolve(out);
  }

  /** The profile file (with `profilePrefix`), or null. */
  endProfiling(): string | null {
    return this.session.endProfiling();
  }

  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    this.o.cuda.synchronize(this.o.stream);
    for (const e of this.#events) this.o.cuda.destroyEvent(e);
    this.session.release();
    for (const p of this.ptrs) this.o.cuda.free(p);
    return Promise.resolve();
  }
}
