import { DitserveError } from './errors.ts';

/** A setting is missing or malformed: raised at start-up, never mid-request. */
export class ConfigError extends DitserveError {
  readonly code = 'usage';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Explicit option, then the environment variable, then the default; `X is required` if none. */
export function readString(
  env: Env,
  name: string,
  options: { option?: string | undefined; default?: string | undefined } = {},
): string {
  const value = options.option ?? nonEmpty(env[name]) ?? options.default;
  if (value === undefined) throw new ConfigError(`${name} is required`);
  return value;
}

export function readOptionalString(env: Env, name: string, option?: string): string | undefined {
  return option ?? nonEmpty(env[name]);
}

export function readInt(
  env: Env,
  name: string,
  options: { option?: string | number | undefined; default?: number | undefined; min?: number; max?: number } = {},
): number {
  const raw = options.option ?? nonEmpty(env[name]) ?? options.default;
  if (raw === undefined) throw new ConfigError(`${name} is required`);
  const value = typeof raw === 'number' ? raw : Number(raw);
  const { min = -Infinity, max = Infinity } = options;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${String(raw)}"`);
  }
  return value;
}

export function readBool(
  env: Env,
  name: string,
  options: { option?: boolean | undefined; default: boolean },
): boolean {
  if (options.option !== undefined) return options.option;
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return options.default;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
