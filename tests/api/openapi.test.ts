import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import type { GenerationView } from '../../functions/api/schemas/generation.ts';
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

interface Operation {
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string }[];
}

interface Document {
  openapi: string;
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

/** Routes that are not part of the API contract: the docs page and the document itself. */
const UNDOCUMENTED = new Set(['GET /docs', 'GET /openapi.json']);

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
});
