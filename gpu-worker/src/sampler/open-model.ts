import type { RunnerKind } from '../runner/index.ts';
import type { Runner } from '../runner/runner.ts';
import { encodeText, type TextEmbeddings } from './components.ts';
import { ModelFileMissingError } from './errors.ts';
import { openSessions, type Device, type ExecutionOptions } from './execution.ts';
import type { ModelConfig, OnnxComponent } from './model-config.ts';
import { PromptTokenizer } from './tokenizer.ts';

/**
 * What loadModel and loadVideoModel share: the tokenizer and one session per component, named
 * as in model_index.json, on the device the options resolve to. An image and a video model
 * differ only in which components they require and how they warm up.
 */
export interface OpenedModel<Name extends OnnxComponent> {
  readonly tokenizer: PromptTokenizer;
  readonly device: Device;
  /** Why device 'auto' ended on the CPU; null otherwise. */
  readonly fallbackReason: string | null;
  /** The binding the graphs run through (ExecutionOptions.runner, default 'stock'). */
  readonly runner: RunnerKind;
  /** The custom-op library its sessions registered (manifest custom_ops), for its other graphs. */
  readonly opsLibrary: string | undefined;
  readonly required: Readonly<Record<Name, Runner>>;
  /** Every session, by component: also those a model may lack (vae_decoder, vae_encoder). */
  readonly sessions: Readonly<Partial<Record<OnnxComponent, Runner>>>;
  /** Frees every session opened here. */
  readonly releaseSessions: () => Promise<void>;
}

/** What a loaded model of either modality has: its configs, tokenizer, device and graphs. */
export interface LoadedModel {
  readonly config: ModelConfig;
  readonly tokenizer: PromptTokenizer;
  readonly device: Device;
  /** Why device 'auto' ended on the CPU; null otherwise. */
  readonly fallbackReason: string | null;
  /** The binding its graphs run through (ExecutionOptions.runner). */
  readonly runner: RunnerKind;
  /** One Runner per graph (ExecutionOptions.runner picks the binding). */
  readonly textEncoder: Runner;
  readonly transformer: Runner;
  /** Frees the native sessions; the model is unusable afterwards. */
  release(): Promise<void>;
}

const listed = (names: readonly string[]) =>
  names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;

/**
 * Builds the tokenizer and opens the model's sessions (openSessions: device fallback, runner);
 * the `required` components must be among them. readModelConfig already requires them for the
 * model's modality, so a missing one only guards the types: the sessions are freed first.
 */
export async function openModel<Name extends OnnxComponent>(
  config: ModelConfig,
  required: readonly Name[],
  options: ExecutionOptions,
): Promise<OpenedModel<Name>> {
  const tokenizer = new PromptTokenizer(config.tokenizerJson, config.tokenizerConfig);
  const { device, sessions, fallbackReason, opsLibrary } = await openSessions(config, options);
  const releaseSessions = async (): Promise<void> => {
    await Promise.all(Object.values(sessions).map((session) => session.release()));
  };
  const found: Partial<Record<Name, Runner>> = {};
  for (const name of required) found[name] = sessions[name];
  if (required.some((name) => !found[name])) {
    await releaseSessions();
    throw new ModelFileMissingError(`${config.dir}: ${listed(required)} are required`);
  }
  return {
    tokenizer,
    device,
    fallbackReason,
    runner: options.runner ?? 'stock',
    opsLibrary,
    required: found as Record<Name, Runner>,
    sessions,
    releaseSessions,
  };
}

/**
 * The text encoder's warm-up run: one empty prompt (batch 1, the full length). Its embeddings
 * are the text of the transformer's warm-up run.
 */
export function warmUpText(model: {
  readonly textEncoder: Runner;
  readonly tokenizer: PromptTokenizer;
}): Promise<TextEmbeddings> {
  const { tokenizer } = model;
  return encodeText(
    model.textEncoder,
    tokenizer.toInputIds([tokenizer.encode('')]),
    1,
    tokenizer.maxLength,
  );
}
