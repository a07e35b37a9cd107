import { readOptional } from '../../core/config.ts';
import { SETTINGS } from '../../core/settings.ts';
import { Ditserve } from '../../sdk/client/index.ts';

/** Where the client commands go without --base-url: `ditserve serve` on its default port. */
export const LOCAL_BASE_URL = `http://127.0.0.1:${SETTINGS.port.default}`;

/** The typed client for --base-url/--api-key (or their variables). */
export function clientFor(
  v: { 'base-url'?: string | undefined; 'api-key'?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Ditserve {
  return new Ditserve({
    baseUrl: readOptional(env, SETTINGS.baseUrl, v['base-url']) ?? LOCAL_BASE_URL,
    apiKey: readOptional(env, SETTINGS.apiKey, v['api-key']),
  });
}
