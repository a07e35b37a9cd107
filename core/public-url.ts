import { ConfigError } from './config.ts';
import { SETTINGS } from './settings.ts';

/**
 * DITSERVE_PUBLIC_URL as the API's base: origin plus any path prefix (an API Gateway stage,
 * a reverse proxy's folder), without a trailing slash, so `${base}/v1/…` is a link.
 */
export function parsePublicUrl(raw: string, name: string = SETTINGS.publicUrl.env): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http or https URL, got "${raw}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must not carry credentials, a query or a fragment: "${raw}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The public URL an operator set (not the table's local default), parsed; else undefined. */
export function configuredPublicUrl(
  env: Readonly<Record<string, string | undefined>>,
  option?: string,
): string | undefined {
  const raw = option ?? env[SETTINGS.publicUrl.env];
  return raw === undefined || raw.trim() === '' ? undefined : parsePublicUrl(raw.trim());
}
