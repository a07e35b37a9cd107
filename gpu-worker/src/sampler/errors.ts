import { DitserveError } from '../../../core/errors.ts';

/** The model folder (or the path given for it) does not exist. */
export class ModelNotFoundError extends DitserveError {
  readonly code = 'model_not_found';
}

/** The model folder exists but a file that model_index.json or the contract requires is missing. */
export class ModelFileMissingError extends DitserveError {
  readonly code = 'model_file_missing';
}

/** A JSON file of the model is malformed, lacks a field, or disagrees with another config. */
export class ModelConfigError extends DitserveError {
  readonly code = 'model_config_invalid';
}

/** The execution provider that was explicitly asked for (e.g. CUDA) cannot run the model. */
export class DeviceUnavailableError extends DitserveError {
  readonly code = 'device_unavailable';
}

/** A generation request has an invalid parameter; the message names it and the allowed values. */
export class InvalidRequestError extends DitserveError {
  readonly code = 'invalid_request';
}

/** generate() stopped at a step boundary because its AbortSignal fired. */
export class GenerationCanceledError extends DitserveError {
  readonly code = 'generation_canceled';
}

/** The requested image format needs an encoder that is not installed here (sharp for WebP/JPEG). */
export class EncoderUnavailableError extends DitserveError {
  readonly code = 'encoder_unavailable';
}
