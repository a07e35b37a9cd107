import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** bin/ditserve.mjs, the file `npx ditserve` runs. */
export const cli = fileURLToPath(new URL('../../bin/ditserve.mjs', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and with what the CLI runs: the test's own folder and environment unless given. */
export interface RunOptions {
  readonly cwd?: string;
  /** Added to (and overriding) the test process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs the CLI as a user would (node bin/ditserve.mjs …), never throwing on a non-zero exit. */
export async function ditserveWith(options: RunOptions, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export function ditserve(...args: string[]): Promise<Run> {
  return ditserveWith({}, ...args);
}

/** A long-running command (`serve`, `npm start`) and what it has written on stderr so far. */
export interface Served {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stderr(): string;
  /** Resolves once stderr contains `text` (or the process ended, or 60 s passed: check stderr). */
  waitFor(text: string): Promise<void>;
  /** The URL from its "listening on …" line. */
  url(): string;
}

/** Starts `command args` (node bin/ditserve.mjs by default) and collects its stderr. */
export function serveProcess(
  args: readonly string[],
  options: RunOptions & { readonly command?: string } = {},
): Served {
  const [command, argv] =
    options.command === undefined
      ? [process.execPath, [cli, ...args]]
      : [options.command, [...args]];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    child,
    stderr: () => stderr,
    async waitFor(text) {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes(text) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    url: () => /listening on (http:\/\/\S+)/.exec(stderr)?.[1] ?? '',
  };
}
