import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import type { z } from '@hono/zod-openapi';
import {
  Generation,
  GenerationCreate,
  GenerationList,
} from '../../functions/api/schemas/generation.ts';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
import { Model, ModelList } from '../../functions/api/schemas/model.ts';
import { OpenAiImageRequest, OpenAiImagesResponse } from '../../functions/api/schemas/openai.ts';
import { ProblemSchema } from '../../functions/api/schemas/problem.ts';
import { makeApi } from './harness.ts';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  example?: unknown;
  enum?: unknown[];
  $ref?: string;
}

interface MediaType {
  schema: Schema;
  example?: unknown;
}

interface Operation {
  tags?: string[];
  operationId?: string;
  summary?: string;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
  parameters?: { name: string; in: string }[];
}

interface Document {
  openapi: string;
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, unknown> };
}

async function documentAndApp() {
  const api = await makeApi();
  const response = await api.call(undefined, 'GET', '/openapi.json');
  expect(response.status).toBe(200);
  return { api, doc: (await response.json()) as Document };
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** `/v1/generations/:id` → `/v1/generations/{id}`; `/v1/files/:key{.+}` → `/v1/files/{key}`. */
function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
}

/**
 * Routes that are not part of the API contract: the pages for browsers (the docs and the
 * playground, with their files) and the document itself.
 */
const UNDOCUMENTED = new Set([
  'GET /docs',
  'GET /docs/assets/init.js',
  'GET /docs/assets/{file}',
  'GET /',
  'GET /playground',
  'GET /playground/{file}',
  'GET /openapi.json',
]);

/** Every operation of the document as [`METHOD path`, operation]. */
function operations(doc: Document): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([m]) => METHODS.has(m))
      .map(([m, op]): [string, Operation] => [`${m.toUpperCase()} ${path}`, op]),
  );
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const { doc } = await documentAndApp();
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents exactly the routes the app implements', async () => {
    const { api, doc } = await documentAndApp();
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.has(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const implemented = new Set(
      api.app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${openApiPath(r.path)}`)
        .filter((r) => !UNDOCUMENTED.has(r)),
    );
    expect([...documented].filter((r) => !implemented.has(r))).toEqual([]);
    expect([...implemented].filter((r) => !documented.has(r))).toEqual([]);
    // The core of the contract is there (a guard against both sets going empty together).
    for (const route of [
      'POST /v1/generations',
      'GET /v1/generations',
      'GET /v1/generations/{id}',
      'POST /v1/generations/{id}/cancel',
      'GET /v1/generations/{id}/events',
      'POST /v1/images/generations',
      'GET /v1/models',
      'GET /v1/models/{id}',
      'GET /healthz',
      'GET /readyz',
      'GET /v1/files/{key}',
    ]) {
      expect(documented).toContain(route);
    }
  });

  it('documents each path parameter and the bearer scheme', async () => {
    const { doc } = await documentAndApp();
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        expect(params.sort(), path).toEqual(names.sort());
      }
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents problem+json errors and the request body of every JSON route', async () => {
    const { doc } = await documentAndApp();
    const create = doc.paths['/v1/generations']?.post;
    expect(Object.keys(create?.responses ?? {}).sort()).toEqual(
      ['200', '202', '400', '401', '409', '413', '415', '422', '429', '503'].sort(),
    );
    expect(create?.responses['422']?.content).toHaveProperty(['application/problem+json']);
    const body = doc.components.schemas.GenerationCreate;
    expect(body?.required).toEqual(['prompt']);
    // Unknown fields are rejected, and the document says so.
    expect(body?.additionalProperties).toBe(false);
    expect(doc.paths['/v1/images/generations']?.post?.requestBody).toBeDefined();
  });

  it('has examples that the implementation accepts', async () => {
    const { api, doc } = await documentAndApp();
    const schema = doc.components.schemas.GenerationCreate;
    const sample: Record<string, unknown> = {};
    for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
      // aspect_ratio's example stands for width/height, which the document has no example for.
      if (prop.example !== undefined && name !== 'width' && name !== 'height') {
        sample[name] = prop.example;
      }
    }
    expect(Object.keys(sample)).toEqual(
      expect.arrayContaining(['prompt', 'model', 'aspect_ratio', 'metadata']),
    );
    const response = await api.call(api.alice, 'POST', '/v1/generations', sample);
    expect(response.status, await response.clone().text()).toBe(202);
    const view = (await response.json()) as GenerationView;
    expect(view.input.prompt).toBe(sample.prompt);

    const webhook = doc.components.schemas.WebhookRequest?.properties?.url?.example;
    const withHook = await api.call(api.alice, 'POST', '/v1/generations', {
      prompt: sample.prompt,
      webhook: { url: webhook },
    });
    expect(withHook.status).toBe(202);

    const openai = doc.components.schemas.OpenAiImageRequest;
    expect(openai?.properties?.size?.example).toBe('128x128');
  });

  it('lists in its enums exactly the values the API accepts', async () => {
    const { api, doc } = await documentAndApp();
    const schema = doc.components.schemas.GenerationCreate;
    for (const field of ['sampler', 'output_format'] as const) {
      const values = schema?.properties?.[field]?.enum ?? [];
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) {
        const response = await api.call(api.alice, 'POST', '/v1/generations', {
          prompt: 'a red circle',
          [field]: value,
        });
        expect(response.status).toBe(202);
      }
    }
  });

  it('gives every operation one declared tag, a unique operationId and a summary', async () => {
    const { doc } = await documentAndApp();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(10);
    const declared = new Set((doc.tags ?? []).map((t) => t.name));
    const ids = new Map<string, string>();
    for (const [name, op] of ops) {
      expect(op.tags, name).toHaveLength(1);
      expect(declared, name).toContain(op.tags?.[0]);
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.get(op.operationId ?? ''), `${name} repeats an operationId`).toBeUndefined();
      ids.set(op.operationId ?? '', name);
      expect(op.summary?.length ?? 0, name).toBeGreaterThan(0);
    }
    // Every declared tag is used: /docs shows no empty group.
    expect([...declared].sort()).toEqual([...new Set(ops.map(([, op]) => op.tags?.[0]))].sort());
    for (const tag of doc.tags ?? []) expect(tag.description, tag.name).toBeTruthy();
  });

  it('has an example for every operation, and each example passes its own schema', async () => {
    const { doc } = await documentAndApp();
    for (const [name, op] of operations(doc)) {
      const media = [
        ...Object.values(op.requestBody?.content ?? {}),
        ...Object.entries(op.responses)
          .filter(([status]) => status.startsWith('2'))
          .flatMap(([, r]) => Object.values(r.content ?? {})),
      ];
      const parameterExamples = (op.parameters ?? []).filter(
        (p) => (p as { schema?: Schema }).schema?.example !== undefined,
      );
      expect(
        media.some((m) => m.example !== undefined) || parameterExamples.length > 0,
        `${name} has no example`,
      ).toBe(true);
    }
    const exampleOf = (path: string, method: string, status?: string): unknown => {
      const op = doc.paths[path]?.[method];
      const content = status ? op?.responses[status]?.content : op?.requestBody?.content;
      return Object.values(content ?? {})[0]?.example;
    };
    const schemas: [unknown, z.ZodType][] = [
      [exampleOf('/v1/generations', 'post'), GenerationCreate],
      [exampleOf('/v1/generations', 'post', '202'), Generation],
      [exampleOf('/v1/generations', 'post', '200'), Generation],
      [exampleOf('/v1/generations', 'post', '422'), ProblemSchema],
      [exampleOf('/v1/generations', 'get', '200'), GenerationList],
      [exampleOf('/v1/generations/{id}', 'get', '200'), Generation],
      [exampleOf('/v1/generations/{id}/cancel', 'post', '200'), Generation],
      [exampleOf('/v1/models', 'get', '200'), ModelList],
      [exampleOf('/v1/models/{id}', 'get', '200'), Model],
      [exampleOf('/v1/images/generations', 'post'), OpenAiImageRequest],
      [exampleOf('/v1/images/generations', 'post', '200'), OpenAiImagesResponse],
    ];
    for (const [example, schema] of schemas) {
      expect(example).toBeDefined();
      expect(schema.safeParse(example).error).toBeUndefined();
    }
  });

  it('the request example of POST /v1/generations is accepted by the API', async () => {
    const { api, doc } = await documentAndApp();
    const example = Object.values(doc.paths['/v1/generations']?.post?.requestBody?.content ?? {})[0]
      ?.example;
    const response = await api.call(api.alice, 'POST', '/v1/generations', example);
    expect(response.status, await response.clone().text()).toBe(202);
  });

  it('marks the public operations as needing no key', async () => {
    const { doc } = await documentAndApp();
    for (const [path, method] of [
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/v1/files/{key}', 'get'],
    ] as const) {
      expect((doc.paths[path]?.[method] as { security?: unknown } | undefined)?.security).toEqual(
        [],
      );
    }
  });
});
