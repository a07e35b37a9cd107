import { DitserveError } from './errors.ts';
import type { BoolSetting, IntSetting, Setting, StringSetting } from './settings.ts';

/** A setting from the environment is missing or malformed: raised at start-up, never mid-request. */
export class ConfigError extends DitserveError {
  readonly code = 'config_invalid';
}

/** The command line itself is wrong (unknown option, bad value): exit code 2, no stack trace. */
export class UsageError extends DitserveError {
  readonly code = 'usage';
}

type Env = Readonly<Record<string, string | undefined>>;

const SETTINGS_PORT_ENV = 'DITSERVE_PORT';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A variable that is not ours (e.g. the AWS SDK's AWS_ENDPOINT_URL); empty counts as unset. */
export function foreignEnv(env: Env, name: string): string | undefined {
  return nonEmpty(env[name]);
}

/**
 * Where a value came from decides who is told: a bad flag is the command line's mistake
 * (UsageError, named by the flag), a bad variable the environment's (ConfigError, by its name).
 */
interface Source {
  readonly raw: string | number | boolean | undefined;
  readonly name: string;
  readonly fail: (message: string) => DitserveError;
}

function sourceOf(env: Env, s: Setting, option: string | number | boolean | undefined): Source {
  if (option !== undefined) {
    const name = s.flag ?? s.env;
    return { raw: option, name, fail: (m) => new UsageError(m) };
  }
  // PORT is what platforms (and users) set; the table's own name still wins.
  const own = nonEmpty(env[s.env]);
  const port = s.env === SETTINGS_PORT_ENV ? nonEmpty(env.PORT) : undefined;
  const name = own === undefined && port !== undefined ? 'PORT' : s.env;
  return { raw: own ?? port, name, fail: (m) => new ConfigError(m) };
}

function parse(s: Setting, source: Source): string | number | boolean | undefined {
  const { raw, name, fail } = source;
  if (raw === undefined) return undefined;
  if (s.kind === 'int') {
    const value = typeof raw === 'number' ? raw : Number(raw);
    if (typeof raw === 'boolean' || !Number.isInteger(value) || value < s.min || value > s.max) {
      throw fail(`${name} must be an integer in [${s.min}, ${s.max}], got "${String(raw)}"`);
    }
    return value;
  }
  if (s.kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (/^(1|true|yes|on)$/i.test(String(raw))) return true;
    if (/^(0|false|no|off)$/i.test(String(raw))) return false;
    throw fail(`${name} must be true or false, got "${String(raw)}"`);
  }
  const value = String(raw);
  if (s.choices && !s.choices.includes(value)) {
    throw fail(`${name} must be one of ${s.choices.join(', ')}, got "${value}"`);
  }
  return value;
}

/** The setting's value: the flag's, else the variable's, else the table's default, else undefined. */
export function readOptional(env: Env, s: IntSetting, option?: string | number): number | undefined;
export function readOptional(env: Env, s: StringSetting, option?: string): string | undefined;
export function readOptional(env: Env, s: BoolSetting, option?: boolean): boolean;
export function readOptional(
  env: Env,
  s: Setting,
  option?: string | number | boolean,
): string | number | boolean | undefined {
  return parse(s, sourceOf(env, s, option)) ?? s.default;
}

/** As readOptional, but a setting with no value and no default is a ConfigError. */
export function read(env: Env, s: IntSetting, option?: string | number): number;
export function read(env: Env, s: StringSetting, option?: string): string;
export function read(env: Env, s: BoolSetting, option?: boolean): boolean;
export function read(
  env: Env,
  s: Setting,
  option?: string | number | boolean,
): string | number | boolean {
  const value = parse(s, sourceOf(env, s, option)) ?? s.default;
  if (value === undefined) throw new ConfigError(`${s.env} is required`);
  return value;
}
