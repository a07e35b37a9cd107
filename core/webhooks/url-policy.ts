import { readOptional } from '../config.ts';
import { DitserveError } from '../errors.ts';
import { SETTINGS } from '../settings.ts';
import { allowsAddress, allowsHost, parseAllowList, type WebhookAllowList } from './allow-list.ts';
import { classifyAddress, type AddressClass } from './ip-ranges.ts';
import { isOwnAddress } from './own-addresses.ts';

/**
 * Where webhooks may go, checked without network access so the API can refuse a URL at submit
 * time (422 webhook_url_refused). The dispatcher repeats the check on every delivery against the
 * resolved addresses (ssrf.ts), since DNS can change between submit and delivery.
 */
export interface WebhookUrlPolicy {
  /**
   * Local mode: allow plain http (and https) to loopback — `localhost`, 127.0.0.0/8, ::1 — so a
   * receiver on the same machine works. Only the open local mode sets it (webhookPolicyFor).
   */
  readonly allowLoopbackHttp?: boolean | undefined;
  /**
   * Targets the operator vouched for (DITSERVE_WEBHOOK_ALLOW_HOSTS): allowed over http or
   * https whatever range they are in, by name or by address.
   */
  readonly allowList?: WebhookAllowList | undefined;
}

/**
 * The policy of a deployment. Loopback receivers are a convenience of the open local mode only
 * (bound to loopback, no keys): there the only caller is this machine's user. Once keys are
 * required or the server is reachable from elsewhere, any key holder could aim webhooks at
 * services on the server's own machine, so loopback is refused like any private address unless
 * the operator lists it.
 */
export function webhookPolicyFor(mode: {
  /** Bound to loopback with no keys required. */
  readonly openLocal: boolean;
  /** The allow-local-webhooks switch (on by default; it only acts in the open local mode). */
  readonly allowLocalWebhooks?: boolean | undefined;
  /** DITSERVE_WEBHOOK_ALLOW_HOSTS, as written. */
  readonly allowHosts?: string | undefined;
}): WebhookUrlPolicy {
  const allowList = parseAllowList(mode.allowHosts);
  return {
    allowLoopbackHttp: mode.openLocal && (mode.allowLocalWebhooks ?? true),
    ...(allowList.hosts.size + allowList.ranges.length > 0 ? { allowList } : {}),
  };
}

/** A keyed deployment's policy (AWS): strict, plus DITSERVE_WEBHOOK_ALLOW_HOSTS when set. */
export function webhookPolicyFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): WebhookUrlPolicy {
  return webhookPolicyFor({
    openLocal: false,
    allowHosts: readOptional(env, SETTINGS.webhookAllowHosts),
  });
}

export class WebhookUrlRefusedError extends DitserveError {
  readonly code = 'webhook_url_refused';
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

// Names that resolve inside the network whatever public DNS says (search domains, mDNS, cloud
// internal zones); refused even before resolution so the reason is clear at submit time.
const INTERNAL_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa'];

/** Why an address may not be called, or undefined when it may. */
export function refusalForAddress(
  verdict: AddressClass,
  policy: WebhookUrlPolicy,
  address?: string,
): string | undefined {
  if (address !== undefined && allowsAddress(policy.allowList, address)) return undefined;
  switch (verdict.kind) {
    case 'public':
      return address !== undefined && !policy.allowLoopbackHttp && isOwnAddress(address)
        ? "the address is one of this machine's own"
        : undefined;
    case 'loopback':
      return policy.allowLoopbackHttp ? undefined : 'loopback addresses are not allowed';
    case 'blocked':
      return `address is in a refused range: ${verdict.range}`;
    case 'invalid':
      return 'not an IP address';
  }
}

function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function hostnameRefusal(hostname: string, policy: WebhookUrlPolicy): string | undefined {
  if (isLoopbackName(hostname)) {
    return policy.allowLoopbackHttp ? undefined : 'loopback hosts are not allowed';
  }
  if (!hostname.includes('.')) return 'single-label hostnames are not allowed';
  if (INTERNAL_SUFFIXES.some((suffix) => hostname.endsWith(suffix))) {
    return 'internal hostnames are not allowed';
  }
  return undefined;
}

/**
 * The reason `url` may not receive webhooks, or undefined when it may (as far as can be told
 * without DNS). IPv4 written oddly (`0x7f.1`, `2130706433`) is normalised by the URL parser
 * before the range check, so it cannot slip through.
 */
export function checkWebhookUrl(url: string, policy: WebhookUrlPolicy = {}): string | undefined {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) return `URL is longer than ${MAX_WEBHOOK_URL_LENGTH}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.username !== '' || parsed.password !== '')
    return 'credentials in the URL are not allowed';
  // A trailing dot is the same DNS name; strip it so suffix checks see the usual form.
  const hostname = parsed.hostname.replace(/\.$/, '').toLowerCase();
  const literal = classifyAddress(hostname);
  const vouched =
    literal.kind === 'invalid'
      ? allowsHost(policy.allowList, hostname)
      : allowsAddress(policy.allowList, hostname);
  if (vouched)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:'
      ? undefined
      : 'only http and https URLs are allowed';
  const loopback =
    literal.kind === 'invalid' ? isLoopbackName(hostname) : literal.kind === 'loopback';
  if (parsed.protocol === 'http:') {
    if (!policy.allowLoopbackHttp) return 'only https URLs are allowed';
    if (!loopback) return 'http is allowed to loopback only; use https';
  } else if (parsed.protocol !== 'https:') {
    return 'only https URLs are allowed';
  }
  return literal.kind === 'invalid'
    ? hostnameRefusal(hostname, policy)
    : refusalForAddress(literal, policy, hostname);
}

/** checkWebhookUrl that throws WebhookUrlRefusedError (422) with the reason. */
export function assertWebhookUrl(url: string, policy: WebhookUrlPolicy = {}): void {
  const reason = checkWebhookUrl(url, policy);
  if (reason !== undefined) throw new WebhookUrlRefusedError(`webhook URL refused: ${reason}`);
}
