import { createRoute, z } from '@hono/zod-openapi';
import { BlobNotFoundError } from '../../../core/ports/blob-store.ts';
import { NotFoundError, UrlExpiredError } from '../errors.ts';
import { createRouter } from '../router.ts';
import { NOT_FOUND } from '../schemas/problem.ts';
import { TAG } from '../schemas/tags.ts';

const file = createRoute({
  method: 'get',
  path: '/v1/files/{key}',
  tags: [TAG.files],
  operationId: 'getFile',
  summary: 'An output image behind a signed, expiring URL (local deployments)',
  // The URL's signature authorizes it, not an API key.
  security: [],
  description: 'On AWS, outputs are presigned S3 URLs instead; this route exists only locally.',
  request: {
    params: z.object({
      key: z.string().openapi({
        param: { name: 'key', in: 'path' },
        example: 'jobs/local/gen_01JD6QF8Y6T2M5VZ0K3X4W7N9B/out/0.png',
      }),
    }),
    query: z.object({
      expires: z.coerce.number().int().openapi({ example: 1767610801 }),
      sig: z.string().max(128).openapi({ example: 'q3v1x0nS2lqKq0uB7y1m9dT4hE2fZc8wV5aR6pY0kJg' }),
    }),
  },
  responses: {
    200: {
      description: 'The image.',
      content: { 'image/*': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    403: { description: 'Expired or forged URL.' },
    ...NOT_FOUND,
  },
});

/** Serves the filesystem BlobStore; the signature, not an API key, authorizes the download. */
export function filesRoutes() {
  const app = createRouter();
  // Keys contain slashes, which an OpenAPI path parameter cannot express: the route is
  // documented as /v1/files/{key} and matched with a regex parameter.
  app.openAPIRegistry.registerPath(file);
  app.get('/v1/files/:key{.+}', async (c) => {
    const { files, blobs, now } = c.var.deps;
    const key = c.req.param('key');
    const query = file.request.query.safeParse(c.req.query());
    if (!files || key.includes('..') || !query.success) throw new NotFoundError('no such file');
    const { expires, sig } = query.data;
    if (!files.verify(key, expires, sig, now?.() ?? new Date())) {
      throw new UrlExpiredError(
        'this file URL has expired or is not valid; read the generation again for a fresh one',
      );
    }
    try {
      const blob = await blobs.get(key);
      return c.body(blob.bytes as Uint8Array<ArrayBuffer>, 200, {
        'content-type': blob.contentType,
        'cache-control': 'private, max-age=3600, immutable',
      });
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new NotFoundError('no such file');
      throw error;
    }
  });
  return app;
}
