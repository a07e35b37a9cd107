import type { Context } from 'hono';
import type { ApiEnv } from './hono-env.ts';

/** The part of an API Gateway REST (v1) event this needs; absent off Lambda. */
interface RestProxyEvent {
  readonly path?: string;
  readonly requestContext?: { readonly path?: string };
}

/**
 * Where clients reach this API, for links and the OpenAPI `servers`: the configured public URL
 * (`ApiDeps.publicUrl`: DITSERVE_PUBLIC_URL, the stack's API URL on AWS, the bind address of
 * `ditserve serve`), never the request's Host header, which anyone can forge (link poisoning
 * behind a shared proxy or cache). Without one, links are relative to the server: the prefix
 * API Gateway strips before the function sees the path, if any. On the execute-api domain that
 * prefix is the stage (`/prod`): the function gets `/v1/generations/…` while clients call
 * `/prod/v1/generations/…`; `requestContext.path` is the path as the client sent it, so the
 * prefix is whatever it has in front of `path` (nothing on a custom domain with an empty base
 * path). Off Lambda there is no event and no prefix.
 */
export function publicBaseUrl(c: Context<ApiEnv>): string {
  const configured = c.var.deps.publicUrl;
  if (configured !== undefined) return configured;
  const event = (c.env as { event?: RestProxyEvent } | undefined)?.event;
  const seen = event?.path;
  const called = event?.requestContext?.path;
  if (!seen || !called || called === seen || !called.endsWith(seen)) return '';
  return called.slice(0, called.length - seen.length);
}
