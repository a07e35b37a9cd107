import type { ApiDeps, ApiLimits } from './deps.ts';

/** What middleware leaves for the handlers (Hono's typed c.var). */
export interface ApiEnv {
  Variables: {
    requestId: string;
    tenant: string;
    keyId: string | undefined;
    deps: ApiDeps;
    limits: ApiLimits;
  };
}
