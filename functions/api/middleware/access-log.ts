import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../hono-env.ts';
import type { Logger } from '../../../core/logger.ts';

/** One structured line per request: method, path, status, duration, tenant, request id. */
export function accessLog(logger: Logger): MiddlewareHandler<ApiEnv> {
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const fields = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      tenant: c.get('tenant'),
    };
    if (c.res.status >= 500) logger.error('request failed', fields);
    else logger.info('request', fields);
  };
}
