import { createRoute, z } from '@hono/zod-openapi';
import { BlobNotFoundError } from '../../../core/ports/blob-store.ts';
import { NotFoundError, UrlExpiredError } from '../errors.ts';
import { createRouter } from '../router.ts';
import { NOT_FOUND } from '../schemas/problem.ts';
import { TAG } from '../schemas/tags.ts';
import { byteRange } from '../services/byte-range.ts';

const file = createRoute({
  method: 'get',
  path: '/v1/files/{key}',
  tags: [TAG.files],
  operationId: 'getFile',
  summary: 'An output file behind a signed, expiring URL (local deployments)',
  // The URL's signature authorizes it, not an API key.
  security: [],
  description:
    'On AWS, outputs are presigned S3 URLs instead; this route exists only locally. A single `Range` (`bytes=a-b`, `a-`, `-n`) is answered with 206 and `Content-Range`, so that browsers can seek in videos; one past the end with 416.',
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
      description: 'The file (an image, or a clip: MP4, animated WebP, PNG thumbnail).',
      content: {
        'image/*': { schema: z.string().openapi({ format: 'binary' }) },
        'video/mp4': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    206: {
      description: 'The part of the file a `Range` header asked for.',
      content: {
        'image/*': { schema: z.string().openapi({ format: 'binary' }) },
        'video/mp4': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    416: { description: 'The range starts past the end of the file.' },
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
      const bytes = blob.bytes as Uint8Array<ArrayBuffer>;
      const size = bytes.byteLength;
      const headers = {
        'content-type': blob.contentType,
        'cache-control': 'private, max-age=3600, immutable',
        // Browsers seek in a video only where the server answers ranges (S3's URLs do).
        'accept-ranges': 'bytes',
      };
      const range = byteRange(c.req.header('range'), size);
      switch (range.kind) {
        case 'whole':
          return c.body(bytes, 200, { ...headers, 'content-length': String(size) });
        case 'unsatisfiable':
          return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
        case 'part':
          return c.body(bytes.subarray(range.start, range.end + 1), 206, {
            ...headers,
            'content-length': String(range.end - range.start + 1),
            'content-range': `bytes ${range.start}-${range.end}/${size}`,
          });
      }
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new NotFoundError('no such file');
      throw error;
    }
  });
  return app;
}
