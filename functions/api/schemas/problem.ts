import { z } from '@hono/zod-openapi';
import { PROBLEM_EXAMPLE } from './examples.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z
      .string()
      .openapi({ description: 'Stable, machine-readable; never changes once shipped.' }),
    request_id: z.string(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string(), allowed: z.string().optional() }))
      .optional(),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const COMMON_ERRORS = {
  401: problem('Missing, malformed or revoked API key.'),
  429: problem('Rate limit or queued-job limit reached; see Retry-After.'),
  503: problem('A backing store or queue is unavailable; retry.'),
} as const;

export const BODY_ERRORS = {
  400: problem('The body is not valid JSON.'),
  413: problem('The body is larger than the limit.'),
  415: problem('Content-Type is not application/json.'),
  422: {
    ...problem('The body breaks the contract: every offending field is listed.'),
    content: {
      'application/problem+json': { schema: ProblemSchema, example: PROBLEM_EXAMPLE },
    },
  },
} as const;

export const NOT_FOUND = { 404: problem('No such resource for this API key’s tenant.') } as const;
export const CONFLICT = {
  409: problem('The request conflicts with the resource’s state.'),
} as const;

/** A JSON response of `schema` for the OpenAPI document, with an example when given. */
export const json = <T extends z.ZodType>(schema: T, description: string, example?: unknown) => ({
  description,
  content: {
    'application/json': example === undefined ? { schema } : { schema, example },
  },
});
