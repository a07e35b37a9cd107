import { OpenAPIHono } from '@hono/zod-openapi';
import { except } from 'hono/combine';
import { TrieRouter } from 'hono/router/trie-router';
import { DEFAULT_LIMITS, type ApiDeps } from './deps.ts';
import type { ApiEnv } from './hono-env.ts';
import { MethodNotAllowedError, NotFoundError } from './errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { accessLog } from './middleware/access-log.ts';
import { auth } from './middleware/auth.ts';
import { corsPolicy } from './middleware/cors.ts';
import { jsonBody } from './middleware/json-body.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { problemResponse } from './problem.ts';
import { TAGS } from './schemas/tags.ts';
import { docsRoutes } from './routes/docs.ts';
import { filesRoutes } from './routes/files.ts';
import { generationsRoutes } from './routes/generations.ts';
import { healthRoutes } from './routes/health.ts';
import { imagesRoutes } from './routes/images.ts';
import { modelsRoutes } from './routes/models.ts';
import { playgroundRoutes } from './routes/playground.ts';
import { videosRoutes } from './routes/videos.ts';
import { webhooksRoutes } from './routes/webhooks.ts';
import { publicBaseUrl } from './public-url.ts';

export const API_VERSION = '1.0.0';

/**
 * The routes anyone may call without a key: health, docs (and Swagger UI's files), the playground
 * (a static page: its calls carry the key), the OpenAPI document, and signed file URLs
 * (/v1/files, whose signature is their authorization). Every other route under /v1 needs a
 * key, so a new route is a tenant's by default. Patterns as Hono matches them (`/x/*` also
 * matches `/x`).
 */
export const PUBLIC_ROUTES: readonly string[] = [
  '/healthz',
  '/readyz',
  '/docs/*',
  '/',
  '/playground/*',
  '/openapi.json',
  '/v1/files/*',
];

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
  // Before auth, so that preflights (which carry no key) are answered.
  if (deps.corsOrigins) app.use('*', corsPolicy(deps.corsOrigins));

  app.route('/', healthRoutes());
  app.route('/', docsRoutes());
  app.route('/', playgroundRoutes());
  app.route('/', filesRoutes());
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'ditserve',
      version: API_VERSION,
      description: 'Text-to-image generation with Diffusion Transformers. See docs/api.md.',
    },
    servers: [{ url: publicBaseUrl(c) || '/' }],
    security: [{ bearer: [] }],
    tags: TAGS,
  }));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key from `ditserve keys create` (dsk_…).',
  });

  // Fail closed: all of /v1 needs a key and counts against the tenant's rate limit, except the
  // public routes. One instance of each: a bucket per tenant, not per tenant and route.
  const authenticate = auth(deps.auth, deps.keys);
  const throttle = rateLimit(limits.requestsPerSecond, limits.burst);
  app.use('/v1/*', except([...PUBLIC_ROUTES], authenticate, throttle));
  for (const path of JSON_BODY_ROUTES) app.post(path, jsonBody(limits.maxBodyBytes));

  app.route('/', generationsRoutes());
  app.route('/', imagesRoutes());
  app.route('/', videosRoutes());
  app.route('/', modelsRoutes());
  app.route('/', webhooksRoutes());

  const allowedMethods = methodsByPath(app);
  app.notFound((c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) {
      return problemResponse(
        c,
        new NotFoundError(`no route ${c.req.method} ${c.req.path}`),
        c.get('requestId'),
      );
    }
    const response = problemResponse(
      c,
      new MethodNotAllowedError(`${c.req.method} is not allowed on ${c.req.path}`),
      c.get('requestId'),
    );
    response.headers.set('allow', allowed.join(', '));
    return response;
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

/**
 * The methods that the app's routes (not its middleware, registered for ALL) answer on a path,
 * HEAD wherever GET is (Hono answers HEAD with the GET route). Built from app.routes on first use,
 * once every route is registered, with Hono's own router, so `{.+}` parameters match as they do
 * for requests.
 */
function methodsByPath(app: OpenAPIHono<ApiEnv>): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  let routeCount = -1;
  return (path) => {
    if (!router || routeCount !== app.routes.length) {
      router = new TrieRouter<string>();
      routeCount = app.routes.length;
      for (const route of app.routes) {
        if (route.method !== 'ALL') router.add('ALL', route.path, route.method);
      }
    }
    const methods = new Set(router.match('ALL', path)[0].map(([method]) => method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
