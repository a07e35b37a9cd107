import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The repository root (infra/ sits directly under it). */
export const REPO_ROOT = join(import.meta.dirname, '..');

/**
 * The files of a model folder that the API needs to describe and validate requests: every
 * `.json` file (model_index.json, scheduler/, tokenizer/, each component's config.json), but no
 * `.onnx` graph (the worker runs those) and nothing from `training/`. Paths are relative to the
 * model folder, with forward slashes.
 */
export function modelMetadataFiles(modelDir: string): string[] {
  if (!existsSync(join(modelDir, 'model_index.json'))) {
    throw new Error(`${modelDir} is not a model folder: it has no model_index.json`);
  }
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'training') walk(path);
      } else if (name.endsWith('.json')) {
        files.push(relative(modelDir, path).split(sep).join('/'));
      }
    }
  };
  walk(modelDir);
  return files;
}

/** Shell commands (for esbuild's afterBundling hook) that copy those files into the asset. */
export function copyModelMetadataCommands(
  modelDir: string,
  outputDir: string,
  model: string,
): string[] {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const commands: string[] = [];
  const dirs = new Set<string>();
  for (const file of modelMetadataFiles(modelDir)) {
    const target = `${outputDir}/models/${model}/${file}`;
    const dir = target.slice(0, target.lastIndexOf('/'));
    if (!dirs.has(dir)) {
      dirs.add(dir);
      commands.push(`mkdir -p ${quote(dir)}`);
    }
    commands.push(`cp ${quote(`${modelDir}/${file}`)} ${quote(target)}`);
  }
  return commands;
}
