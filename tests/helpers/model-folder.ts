import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attr, type GraphBuilder } from './onnx-builder.ts';
import { wordLevelTokenizer } from './tokenizer-fixture.ts';

/**
 * What every closed-form test model folder shares (docs/model-format.md): the component folders,
 * the word-level tokenizer, the flow-matching scheduler config and model_index.json. The image
 * (test-model.ts) and the video (test-video-model.ts) test models differ in their graphs and
 * their model_index.json only.
 */

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

/** One component folder: its name, its graph and its config.json. */
export type Component = readonly [string, Uint8Array, Readonly<Record<string, number | string>>];

export interface ModelFolder {
  readonly components: readonly Component[];
  /** The tokenizer's model_max_length. */
  readonly maxLength: number;
  readonly numTrainTimesteps: number;
  readonly shift: number;
  readonly modelIndex: Readonly<Record<string, unknown>>;
}

/** Writes a model folder into `dir` (created if needed) and returns `dir`. */
export async function writeModelFolder(dir: string, folder: ModelFolder): Promise<string> {
  for (const [name, onnx, config] of folder.components) {
    await mkdir(join(dir, name), { recursive: true });
    await writeJson(join(dir, name, 'config.json'), config);
    // Both variants take and return float32, so the fp16 file may be the same graph here.
    await writeFile(join(dir, name, 'model.onnx'), onnx);
    await writeFile(join(dir, name, 'model.fp16.onnx'), onnx);
  }
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  await writeJson(join(dir, 'tokenizer', 'tokenizer.json'), wordLevelTokenizer());
  await writeJson(join(dir, 'tokenizer', 'tokenizer_config.json'), {
    model_max_length: folder.maxLength,
    tokenizer_class: 'PreTrainedTokenizerFast',
  });
  await mkdir(join(dir, 'scheduler'), { recursive: true });
  await writeJson(join(dir, 'scheduler', 'scheduler_config.json'), {
    _class_name: 'FlowMatchEulerDiscreteScheduler',
    num_train_timesteps: folder.numTrainTimesteps,
    shift: folder.shift,
  });
  await writeJson(join(dir, 'model_index.json'), folder.modelIndex);
  return dir;
}

/** The decoders' nearest-neighbour ×f upsampling of `input` [N, C, h, w] into output `sample`. */
export function upsampleNearest(g: GraphBuilder, input: string, f: number): void {
  g.node(
    'Resize',
    [input, '', g.constant('float32', [4], [1, 1, f, f])],
    {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    },
    'sample',
  );
}
