import { OpenAPIHono, type Hook, type z } from '@hono/zod-openapi';
import type { ApiEnv } from './env.ts';
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

/** Every resource's sub-app starts here, so validation failures look the same everywhere. */
export function createRouter(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook() });
}
