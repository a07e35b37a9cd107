import { OpenAPIHono } from '@hono/zod-openapi';
import { DEFAULT_LIMITS, type ApiDeps } from './deps.ts';
import type { ApiEnv } from './env.ts';
import { MethodNotAllowedError, NotFoundError } from './errors.ts';
import { silentLogger } from './logger.ts';
import { accessLog } from './middleware/access-log.ts';
import { auth } from './middleware/auth.ts';
import { jsonBody } from './middleware/json-body.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { problemResponse } from './problem.ts';
import { docsRoutes } from './routes/docs.ts';
import { filesRoutes } from './routes/files.ts';
import { generationsRoutes } from './routes/generations.ts';
import { healthRoutes } from './routes/health.ts';
import { imagesRoutes } from './routes/images.ts';
import { modelsRoutes } from './routes/models.ts';
import { webhooksRoutes } from './routes/webhooks.ts';

export const API_VERSION = '1.0.0';

/** Everything a tenant owns; `/x/*` also matches `/x` in Hono. */
const TENANT_ROUTES = ['/v1/generations/*', '/v1/images/*', '/v1/models/*', '/v1/webhooks/*'];

/** Paths (and methods) that take a JSON body: they get the 415/413/400 checks first. */
const JSON_BODY_ROUTES = ['/v1/generations', '/v1/images/generations'];

/**
 * The whole HTTP API as one Hono app over the ports in `deps`. Public routes (health, docs,
 * OpenAPI, signed file URLs) need no key; everything under /v1 else is per tenant.
 */
export function createApp(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const logger = deps.logger ?? silentLogger;
  const app = new OpenAPIHono<ApiEnv>();

  app.use('*', requestId());
  app.use('*', accessLog(logger));
  app.use('*', async function provide(c, next) {
    c.set('deps', deps);
    c.set('limits', limits);
    await next();
  });

  app.route('/', healthRoutes());
  app.route('/', docsRoutes());
  app.route('/', filesRoutes());
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'ditserve',
      version: API_VERSION,
      description: 'Text-to-image generation with Diffusion Transformers. See docs/api.md.',
    },
    servers: [{ url: new URL(c.req.url).origin }],
    security: [{ bearer: [] }],
  }));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `ditserve keys create` (dsk_…).',
  });

  // Signed file URLs (/v1/files) are their own authorization: no key, no tenant rate limit.
  // One instance of each for all tenant routes: a bucket per tenant, not per tenant and route.
  const authenticate = auth(deps.auth, deps.keys);
  const throttle = rateLimit(limits.requestsPerSecond, limits.burst);
  for (const path of TENANT_ROUTES) app.use(path, authenticate, throttle);
  for (const path of JSON_BODY_ROUTES) app.post(path, jsonBody(limits.maxBodyBytes));

  app.route('/', generationsRoutes());
  app.route('/', imagesRoutes());
  app.route('/', modelsRoutes());
  app.route('/', webhooksRoutes());

  app.notFound((c) => {
    const known = app.routes.some((r) => r.method !== 'ALL' && matches(r.path, c.req.path));
    return problemResponse(
      c,
      known
        ? new MethodNotAllowedError(`${c.req.method} is not allowed on ${c.req.path}`)
        : new NotFoundError(`no route ${c.req.method} ${c.req.path}`),
      c.get('requestId'),
    );
  });
  app.onError((error, c) => {
    const response = problemResponse(c, error, c.get('requestId'));
    if (response.status >= 500) {
      logger.error('unhandled error', {
        requestId: c.get('requestId'),
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    return response;
  });
  return app;
}

/** Whether a Hono route pattern (`/v1/generations/:id`) matches a concrete path. */
function matches(pattern: string, path: string): boolean {
  const regex = pattern
    .split('/')
    .map((part) =>
      part.startsWith(':')
        ? '[^/]+'
        : part === '*'
          ? '.*'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${regex}$`).test(path);
}
