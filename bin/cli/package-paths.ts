import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { read } from '../../core/config.ts';
import { SETTINGS, SHIPPED_MODEL_DIRS } from '../../core/settings.ts';

/**
 * The folder of ditserve's own package.json, found from this file rather than from the current
 * folder, so that `npx ditserve` finds the shipped models from anywhere. The walk up works both
 * for the TypeScript source and for a bundle in dist/; without a package.json (a lone bundle)
 * the current folder stands in.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'ditserve') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

export function packageVersion(): string {
  const manifest = join(PACKAGE_ROOT, 'package.json');
  if (!existsSync(manifest)) return 'unknown';
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown';
}

/** The default model (the first shipped one), wherever the command runs from. */
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, SHIPPED_MODEL_DIRS[0] ?? '');

/**
 * DITSERVE_MODEL_DIRS (or the flag): folders the user names are relative to the current
 * folder, as any path they type; only the default is the package's own.
 */
export function modelDirsFrom(
  env: Readonly<Record<string, string | undefined>>,
  flag?: readonly string[],
): string[] {
  if (flag && flag.length > 0) return [...flag];
  const value = read(env, SETTINGS.modelDirs);
  if (env[SETTINGS.modelDirs.env] !== undefined) return value.split(',');
  return value.split(',').map((dir) => (isAbsolute(dir) ? dir : join(PACKAGE_ROOT, dir)));
}
