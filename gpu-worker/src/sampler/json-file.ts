import { readFile } from 'node:fs/promises';
import { ModelConfigError, ModelFileMissingError } from './errors.ts';

export type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a JSON file that must hold an object; errors name the file and what is wrong with it. */
export async function readJsonObject(path: string): Promise<JsonObject> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelFileMissingError(`missing file: ${path}`, { cause: error });
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isObject(parsed)) throw new ModelConfigError(`${path} must hold a JSON object`);
  return parsed;
}

/**
 * Typed access to the fields of one parsed JSON object. Every failure is a ModelConfigError
 * naming the file and the key, so a broken model folder says exactly what to fix.
 */
export class JsonFields {
  constructor(
    readonly value: JsonObject,
    readonly where: string,
  ) {}

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  private fail(key: string, expected: string): never {
    const got = this.value[key] === undefined ? 'nothing' : JSON.stringify(this.value[key]);
    throw new ModelConfigError(`${this.where}: "${key}" must be ${expected}, got ${got}`);
  }

  number(key: string, { min = -Infinity, integer = false } = {}): number {
    const v = this.value[key];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      (integer && !Number.isInteger(v))
    ) {
      const kind = integer ? 'an integer' : 'a number';
      this.fail(key, min === -Infinity ? kind : `${kind} ≥ ${min}`);
    }
    return v;
  }

  positiveNumber(key: string): number {
    const v = this.number(key);
    if (v <= 0) this.fail(key, 'a number > 0');
    return v;
  }

  integer(key: string, min = 1): number {
    return this.number(key, { min, integer: true });
  }

  string(key: string): string {
    const v = this.value[key];
    if (typeof v !== 'string' || v === '') this.fail(key, 'a non-empty string');
    return v;
  }

  object(key: string): JsonFields {
    const v = this.value[key];
    if (!isObject(v)) this.fail(key, 'an object');
    return new JsonFields(v, `${this.where} › ${key}`);
  }

  array(key: string): unknown[] {
    const v = this.value[key];
    if (!Array.isArray(v)) this.fail(key, 'an array');
    return v;
  }
}
