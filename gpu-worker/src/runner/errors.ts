import { DitserveError } from '../../../core/errors.ts';

/**
 * Errors of the Runner port. OrtError and RunnerInputError stay plain Errors (not
 * DitserveErrors): a failed run is the deployment's fault, and the worker must treat it exactly
 * as it treated onnxruntime-node's own errors before the port existed.
 */

/** onnxruntime's OrtErrorCode names (onnxruntime_c_api.h), by value. */
export const ORT_ERROR_CODES = [
  'ORT_OK',
  'ORT_FAIL',
  'ORT_INVALID_ARGUMENT',
  'ORT_NO_SUCHFILE',
  'ORT_NO_MODEL',
  'ORT_ENGINE_ERROR',
  'ORT_RUNTIME_EXCEPTION',
  'ORT_INVALID_PROTOBUF',
  'ORT_MODEL_LOADED',
  'ORT_NOT_IMPLEMENTED',
  'ORT_INVALID_GRAPH',
  'ORT_EP_FAIL',
  'ORT_MODEL_LOAD_CANCELED',
  'ORT_MODEL_REQUIRES_COMPILATION',
  'ORT_NOT_FOUND',
  'ORT_DEVICE_RESET',
] as const;
export type OrtErrorCode = (typeof ORT_ERROR_CODES)[number] | 'unknown';

/** onnxruntime refused a call; the message is onnxruntime's own. */
export class OrtError extends Error {
  constructor(
    message: string,
    /** From the OrtStatus (native runner); 'unknown' where the stock binding hides it. */
    readonly ortCode: OrtErrorCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'OrtError';
  }
}

/** Feeds that do not match the graph's inputs (names, element types, data length vs shape). */
export class RunnerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerInputError';
  }
}

/** run() or endProfiling() on a runner that was released. */
export class RunnerReleasedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerReleasedError';
  }
}

/**
 * The CUDA execution provider cannot be set up (its library or CUDA itself is missing, or an
 * option is refused): the same code as the sampler's DeviceUnavailableError, so callers that
 * report an unusable device need not know which layer found out.
 */
export class CudaProviderError extends DitserveError {
  readonly code = 'device_unavailable';
}
