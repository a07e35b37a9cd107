import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root: child processes run from here, as `npm start` would. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MODEL_DIR = fileURLToPath(new URL('../../models/shapes-mmdit-s', import.meta.url));

/** A JSON log line of a worker (its events) or of the embedded stack's logger. */
export interface LogLine {
  readonly type?: string;
  readonly state?: string;
  readonly jobId?: string;
  readonly status?: string;
  readonly step?: number;
  readonly attempt?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly error?: string;
  readonly [field: string]: unknown;
}

/** One line with where and when it was seen. */
export interface SeenLine {
  readonly process: string;
  readonly at: number;
  readonly line: LogLine;
}

export interface Managed {
  /** `worker-1#2`: the slot and which start of it this is. */
  readonly name: string;
  readonly slot: string;
  readonly child: ChildProcess;
  readonly lines: SeenLine[];
  /** The last lines of stderr and non-JSON stdout, for failure reports. */
  readonly rawTail: string[];
  readonly exited: Promise<number | null>;
  readonly startedAt: number;
  /** Called for every JSON line as it arrives (synchronously: a kill here lands right after). */
  onLine(listener: (line: LogLine) => void): () => void;
  waitForLine(what: string, match: (line: LogLine) => boolean, timeoutMs: number): Promise<void>;
  waitForText(what: string, match: RegExp, timeoutMs: number): Promise<string>;
  alive(): boolean;
}

export { freePort } from '../helpers/moto.ts';

const TAIL = 60;

const cleanups = new Set<() => Promise<void>>();

/**
 * Registers a teardown step (kill processes, stop moto …); runs once, from the scenario's own
 * `finally` or from the test file's afterAll(cleanupAll), whichever comes first.
 */
export function registerCleanup(step: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    cleanups.delete(once);
    done ??= step().catch(() => undefined);
    return done;
  };
  cleanups.add(once);
  return once;
}

/** Every teardown step not run yet, last registered first. */
export async function cleanupAll(): Promise<void> {
  for (const step of [...cleanups].reverse()) await step();
}

/**
 * Every child process a scenario starts, kept by slot (worker-1, api, …) across restarts so that
 * log lines of all generations can be counted at the end; killAll() is safe to call twice, and
 * an exit handler SIGKILLs whatever is left should the test process die first.
 */
export class ProcessGroup {
  readonly all: Managed[] = [];
  readonly #generation = new Map<string, number>();
  readonly #onExit = () => {
    for (const p of this.all) if (p.alive()) p.child.kill('SIGKILL');
  };

  constructor() {
    process.once('exit', this.#onExit);
  }

  spawn(slot: string, args: readonly string[], env: NodeJS.ProcessEnv): Managed {
    const generation = (this.#generation.get(slot) ?? 0) + 1;
    this.#generation.set(slot, generation);
    const name = `${slot}#${generation}`;
    const child = spawn(process.execPath, [...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: SeenLine[] = [];
    const rawTail: string[] = [];
    const listeners = new Set<(line: LogLine) => void>();
    const textWaiters = new Set<(text: string) => void>();
    const keepRaw = (text: string) => {
      rawTail.push(text);
      if (rawTail.length > TAIL) rawTail.shift();
      for (const w of textWaiters) w(text);
    };
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: LogLine | undefined;
      if (text.startsWith('{')) {
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = undefined;
        }
      }
      if (!line) {
        keepRaw(text);
        return;
      }
      lines.push({ process: name, at: Date.now(), line });
      if (line.type === 'error' || line.level === 'ERROR' || line.level === 'WARN') {
        keepRaw(text);
      }
      for (const l of listeners) l(line);
    });
    createInterface({ input: child.stderr }).on('line', keepRaw);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code, signal) => {
        resolve(code ?? (signal ? -1 : null));
      });
    });
    const alive = () => child.exitCode === null && child.signalCode === null;
    const managed: Managed = {
      name,
      slot,
      child,
      lines,
      rawTail,
      exited,
      startedAt: Date.now(),
      alive,
      onLine(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async waitForLine(what, match, timeoutMs) {
        if (lines.some((l) => match(l.line))) return;
        await new Promise<void>((resolve, reject) => {
          const stop = () => {
            clearTimeout(timer);
            listeners.delete(listener);
          };
          const listener = (line: LogLine) => {
            if (!match(line)) return;
            stop();
            resolve();
          };
          const timer = setTimeout(() => {
            stop();
            reject(new Error(`${name}: timed out waiting for ${what}\n${rawTail.join('\n')}`));
          }, timeoutMs);
          listeners.add(listener);
          void exited.then((code) => {
            stop();
            reject(new Error(`${name} exited (${code}) before ${what}\n${rawTail.join('\n')}`));
          });
        });
      },
      async waitForText(what, match, timeoutMs) {
        const found = rawTail.find((t) => match.test(t));
        if (found) return found;
        return new Promise<string>((resolve, reject) => {
          const stop = () => {
            clearTimeout(timer);
            textWaiters.delete(waiter);
          };
          const waiter = (text: string) => {
            if (!match.test(text)) return;
            stop();
            resolve(text);
          };
          const timer = setTimeout(() => {
            stop();
            reject(new Error(`${name}: timed out waiting for ${what}\n${rawTail.join('\n')}`));
          }, timeoutMs);
          textWaiters.add(waiter);
          void exited.then((code) => {
            stop();
            reject(new Error(`${name} exited (${code}) before ${what}\n${rawTail.join('\n')}`));
          });
        });
      },
    };
    this.all.push(managed);
    return managed;
  }

  /** The newest start of `slot`. */
  current(slot: string): Managed | undefined {
    return this.all.filter((p) => p.slot === slot).at(-1);
  }

  /** Every JSON line of every process whose slot starts with `prefix`, in arrival order. */
  linesOf(prefix: string): SeenLine[] {
    return this.all
      .filter((p) => p.slot.startsWith(prefix))
      .flatMap((p) => p.lines)
      .sort((a, b) => a.at - b.at);
  }

  async kill(p: Managed, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (p.alive()) p.child.kill(signal);
    await p.exited;
  }

  /** SIGTERM (a graceful drain), then SIGKILL for whatever has not exited after `graceMs`. */
  async killAll(graceMs = 3000): Promise<void> {
    const living = this.all.filter((p) => p.alive());
    for (const p of living) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(living.map((p) => p.exited)), sleep(graceMs)]);
    for (const p of living) if (p.alive()) p.child.kill('SIGKILL');
    await Promise.all(living.map((p) => p.exited));
    process.removeListener('exit', this.#onExit);
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export async function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}
