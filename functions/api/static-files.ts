import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticFile {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
}

/**
 * Files read from one folder once and kept in memory (a few hundred KiB: Swagger UI, the
 * playground). Only the names `allowed` accepts are ever read, so a path in a URL cannot
 * reach anything else.
 */
export class StaticFolder {
  readonly #dir: string;
  readonly #allowed: (name: string) => boolean;
  readonly #cache = new Map<string, Promise<StaticFile | undefined>>();

  constructor(dir: string, allowed: (name: string) => boolean) {
    this.#dir = dir;
    this.#allowed = allowed;
  }

  get(name: string): Promise<StaticFile | undefined> {
    if (!this.#allowed(name)) return Promise.resolve(undefined);
    let file = this.#cache.get(name);
    if (!file) {
      file = this.#read(name);
      this.#cache.set(name, file);
    }
    return file;
  }

  async #read(name: string): Promise<StaticFile | undefined> {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) return undefined;
    try {
      return { body: new Uint8Array(await readFile(join(this.#dir, name))), contentType };
    } catch {
      return undefined;
    }
  }
}

/** The first of `dirs` that holds `marker`: assets sit in one place in the sources, another in a bundle. */
export function firstFolderWith(dirs: readonly string[], marker: string): string | undefined {
  return dirs.find((dir) => existsSync(join(dir, marker)));
}

/**
 * Headers of every HTML page and asset the API serves to browsers: a strict Content Security
 * Policy (nothing from other origins runs), no sniffing, no framing, no referrer.
 */
export function pageHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}
