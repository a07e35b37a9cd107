/**
 * The wire types, inferred from the server's own zod schemas so that the client cannot drift
 * from what the API validates and answers. Type-only imports: nothing of zod or the server is
 * bundled into the client (tests/sdk/bundle.test.ts checks the browser bundle).
 */
import type { z } from '@hono/zod-openapi';
import type {
  Generation as GenerationSchema,
  GenerationCreate,
  GenerationList as GenerationListSchema,
  ListQuery,
} from '../../functions/api/schemas/generation.ts';
import type { Model as ModelSchema } from '../../functions/api/schemas/model.ts';
import type { ProblemSchema } from '../../functions/api/schemas/problem.ts';

/** The body of `POST /v1/generations` (what you may send: defaults are the server's). */
export type GenerateParams = z.input<typeof GenerationCreate>;
/** A generation as the API answers it. */
export type Generation = z.output<typeof GenerationSchema>;
export type GenerationStatus = Generation['status'];
/** One page of `GET /v1/generations`. */
export type GenerationPage = z.output<typeof GenerationListSchema>;
/** Filters of `GET /v1/generations`; `cursor` starts from a page you got before. */
export type ListParams = z.output<typeof ListQuery>;
export type Model = z.output<typeof ModelSchema>;
/** An RFC 9457 problem document as the API sends it with every error. */
export type Problem = z.output<typeof ProblemSchema>;
export type FieldError = NonNullable<Problem['errors']>[number];

/** One update of a generation while it runs (SSE, or polling when SSE is not available). */
export interface GenerationEvent {
  /** `status` when the status changed (including the last one), `progress` for a new step. */
  readonly type: 'status' | 'progress';
  readonly generation: Generation;
}

/** `GET /v1/webhooks/secret` (its schema is private to the route, so it is spelled out here). */
export interface WebhookSecrets {
  readonly secret: string;
  readonly previous: readonly string[];
}
