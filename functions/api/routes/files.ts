import { createRoute, z } from '@hono/zod-openapi';
import { BlobNotFoundError } from '../../../core/ports/blob-store.ts';
import { NotFoundError, UrlExpiredError } from '../errors.ts';
import { createRouter } from '../router.ts';
import { NOT_FOUND } from '../schemas/problem.ts';

const file = createRoute({
  method: 'get',
  path: '/v1/files/{key}',
  summary: 'An output image behind a signed, expiring URL (local deployments)',
  description: 'On AWS, outputs are presigned S3 URLs instead; this route exists only locally.',
  request: {
    params: z.object({ key: z.string().openapi({ param: { name: 'key', in: 'path' } }) }),
    query: z.object({ expires: z.coerce.number().int(), sig: z.string().max(128) }),
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
