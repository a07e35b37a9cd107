import { Hono } from 'hono';
import type { ApiEnv } from '../hono-env.ts';

/** Swagger UI from its CDN: the page is for people with a browser, who have the internet. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ditserve API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });</script>
<noscript>The API description is at <a href="/openapi.json">/openapi.json</a>.</noscript>
</body>
</html>`;

export function docsRoutes() {
  const app = new Hono<ApiEnv>();
  app.get('/docs', (c) => c.html(PAGE));
  return app;
}
