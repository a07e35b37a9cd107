import { Hono } from 'hono';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { ApiEnv } from '../hono-env.ts';
import { NotFoundError } from '../errors.ts';
import { pageHeaders, StaticFolder } from '../static-files.ts';

/** The files of swagger-ui-dist the page uses, out of the package's forty. */
const SWAGGER_FILES = new Set([
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'favicon-16x16.png',
  'favicon-32x32.png',
]);

/**
 * swagger-ui-dist, found the way Node finds the package: node_modules next to the sources, or
 * (in the API's Lambda bundle) the copy that the bundling hook puts next to the bundle
 * (infra/api-assets.ts). Undefined when neither has it: /docs then says where the document is.
 */
function swaggerFolder(): StaticFolder | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('swagger-ui-dist/package.json'));
    return new StaticFolder(dir, (name) => SWAGGER_FILES.has(name));
  } catch {
    return undefined;
  }
}

/**
 * Swagger UI injects its styles at run time, hence 'unsafe-inline' for styles only; scripts
 * come from this server alone. "Try it out" calls this origin.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Relative URLs throughout: behind API Gateway's execute-api URL the page is at /prod/docs.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ditserve API reference</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/init.js"></script>
<noscript>The API description is at <a href="openapi.json">openapi.json</a>.</noscript>
</body>
</html>`;

/** Shown where Swagger UI's files are missing (a bundle built without them). */
const FALLBACK = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ditserve API reference</title></head>
<body>
<h1>ditserve API reference</h1>
<p>This deployment was built without Swagger UI's files (the <code>swagger-ui-dist</code>
package). The OpenAPI 3.1 document is at <a href="openapi.json">openapi.json</a>; any OpenAPI
viewer reads it.</p>
</body>
</html>`;

/** Swagger UI's start: no validator badge (it would call validator.swagger.io), deep links on. */
const INIT = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI).href,
  dom_id: '#ui',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: true,
});
`;

/** GET /docs: the API reference, every file of it served by this API (it works offline). */
export function docsRoutes() {
  const app = new Hono<ApiEnv>();
  const swagger = swaggerFolder();
  const headers = pageHeaders(CSP);

  app.get('/docs', (c) => c.html(swagger ? PAGE : FALLBACK, 200, headers));
  app.get('/docs/assets/init.js', (c) =>
    c.body(INIT, 200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/docs/assets/:file', async (c) => {
    const file = await swagger?.get(c.req.param('file'));
    if (!file) throw new NotFoundError(`no such file ${c.req.path}`);
    return c.body(file.body, 200, {
      ...headers,
      'content-type': file.contentType,
      'cache-control': 'public, max-age=86400',
    });
  });
  return app;
}
