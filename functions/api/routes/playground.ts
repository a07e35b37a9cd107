import { Hono, type Context } from 'hono';
import { fileURLToPath } from 'node:url';
import type { ApiEnv } from '../hono-env.ts';
import { NotFoundError } from '../errors.ts';
import { firstFolderWith, pageHeaders, StaticFolder } from '../static-files.ts';

/**
 * The playground's files: functions/api/playground/ next to this file in the sources, or the
 * playground/ folder that the bundling hook copies next to the API's Lambda bundle
 * (infra/api-assets.ts), where this module is the bundle itself.
 */
const FOLDER = firstFolderWith(
  [
    fileURLToPath(new URL('../playground/', import.meta.url)),
    fileURLToPath(new URL('./playground/', import.meta.url)),
  ],
  'index.html',
);

/**
 * Scripts and styles from this server only, no inline code; calls go to this API; images and
 * a video model's clips may also come from S3 presigned URLs (https:) or the local stack's signed
 * URLs, whose origin is the address it was started on (127.0.0.1 or localhost, whichever the
 * browser used).
 */
const OUTPUT_SOURCES = "'self' data: blob: https: http://127.0.0.1:* http://localhost:*";
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  `img-src ${OUTPUT_SOURCES}`,
  `media-src ${OUTPUT_SOURCES}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ASSET_NAME = /^[a-z0-9-]+\.(?:js|css|svg)$/;

/**
 * GET /playground (and `/` on local stacks): a page to try the API in a browser, plain HTML,
 * CSS and JavaScript modules served from here (no CDN, no build step). See docs/playground.md.
 */
export function playgroundRoutes() {
  const app = new Hono<ApiEnv>();
  const files = FOLDER
    ? new StaticFolder(FOLDER, (name) => ASSET_NAME.test(name) || name === 'index.html')
    : undefined;
  const headers = pageHeaders(CSP);

  const page = async (c: Context<ApiEnv>) => {
    const file = await files?.get('index.html');
    if (!file) throw new NotFoundError('this deployment was built without the playground');
    return c.body(file.body, 200, {
      ...headers,
      'content-type': file.contentType,
      'cache-control': 'no-cache',
    });
  };

  app.get('/', (c) => {
    if (!c.var.deps.playgroundAtRoot) {
      throw new NotFoundError(
        'no route GET /; the playground is at /playground, the API reference at /docs',
      );
    }
    return page(c);
  });
  app.get('/playground', page);
  app.get('/playground/:file', async (c) => {
    const name = c.req.param('file');
    const file = name === 'index.html' ? undefined : await files?.get(name);
    if (!file) throw new NotFoundError(`no such file ${c.req.path}`);
    return c.body(file.body, 200, {
      ...headers,
      'content-type': file.contentType,
      // Revalidated each time: a new version shows at the next reload.
      'cache-control': 'no-cache',
    });
  });
  return app;
}
