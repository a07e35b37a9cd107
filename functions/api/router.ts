import { OpenAPIHono, type Hook, type z } from '@hono/zod-openapi';
import type { ApiEnv } from './hono-env.ts';
import { JobNotFoundError } from '../../core/ports/job-store.ts';
import { ValidationError } from './errors.ts';
import { fieldProblems } from './schemas/zod-problems.ts';

/** A validation hook that turns zod's verdict into our 422 (with known fields when given). */
export function validationHook<I, P extends string>(
  schema?: z.ZodType,
): Hook<I, ApiEnv, P, undefined> {
  return function onValidation(result) {
    if (!result.success) throw new ValidationError(fieldProblems(result.error, schema));
    return undefined;
  };
}

/**
 * For routes whose only input is a generation id in the path: an id that cannot exist is a
 * generation that does not exist (404, as for another tenant's), not a malformed request.
 */
export function notFoundHook(result: { success: boolean }): undefined {
  if (!result.success) throw new JobNotFoundError('no such generation');
  return undefined;
}

/** Every resource's sub-app starts here, so validation failures look the same everywhere. */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook() });
}
