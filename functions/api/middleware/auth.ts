import type { MiddlewareHandler } from 'hono';
import { verifyApiKey } from '../../../core/auth/api-keys.ts';
import type { ApiKeyRecord, KeyStore } from '../../../core/ports/key-store.ts';
import type { AuthMode } from '../deps.ts';
import type { ApiEnv } from '../hono-env.ts';
import { UnauthorizedError } from '../errors.ts';

/** Verified keys are remembered briefly so a busy client costs one store read per minute. */
const CACHE_MS = 30_000;

export function auth(mode: AuthMode, keys: KeyStore): MiddlewareHandler<ApiEnv> {
  const cache = new Map<string, { record: ApiKeyRecord; until: number }>();
  return async function authMiddleware(c, next) {
    if (mode.kind === 'open') {
      c.set('tenant', mode.tenant);
      c.set('keyId', undefined);
      return next();
    }
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new UnauthorizedError('send your API key as "Authorization: Bearer dsk_…"');
    }
    const presented = match[1];
    const hit = cache.get(presented);
    let record = hit && hit.until > Date.now() ? hit.record : undefined;
    if (!record) {
      record = await verifyApiKey(keys, presented);
      if (!record) throw new UnauthorizedError('the API key is not valid or was revoked');
      if (cache.size > 10_000) cache.clear();
      cache.set(presented, { record, until: Date.now() + CACHE_MS });
    }
    c.set('tenant', record.tenant);
    c.set('keyId', record.id);
    return next();
  };
}
