import { ConfigError } from '../config.ts';
import { inPrefix, parseIp } from './ip.ts';

/**
 * Webhook targets an operator has vouched for (DITSERVE_WEBHOOK_ALLOW_HOSTS): receivers on a
 * private network or this machine, which the SSRF policy refuses otherwise. An entry is a host
 * name (that name, whatever it resolves to), an IP address, or a CIDR range.
 */
export interface WebhookAllowList {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly { readonly prefix: Uint8Array; readonly length: number }[];
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function parseEntry(entry: string): { host?: string; range?: WebhookAllowList['ranges'][number] } {
  const [address = '', length, extra] = entry.split('/');
  const ip = parseIp(address);
  if (ip) {
    const max = ip.version === 4 ? 32 : 128;
    const bits = length === undefined ? max : Number(length);
    if (extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > max || length === '') {
      throw new ConfigError(`DITSERVE_WEBHOOK_ALLOW_HOSTS: "${entry}" has a bad prefix length`);
    }
    return { range: { prefix: ip.bytes, length: bits } };
  }
  const host = entry.toLowerCase().replace(/\.$/, '');
  if (length !== undefined || !HOSTNAME.test(host)) {
    throw new ConfigError(
      `DITSERVE_WEBHOOK_ALLOW_HOSTS: "${entry}" is not a host name, an IP address or a CIDR range`,
    );
  }
  return { host };
}

/** Parses the comma-separated setting; empty or unset is an empty list (nothing extra allowed). */
export function parseAllowList(raw: string | undefined): WebhookAllowList {
  const hosts = new Set<string>();
  const ranges: WebhookAllowList['ranges'][number][] = [];
  for (const entry of (raw ?? '').split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const parsed = parseEntry(entry);
    if (parsed.host !== undefined) hosts.add(parsed.host);
    if (parsed.range) ranges.push(parsed.range);
  }
  return { hosts, ranges };
}

/** True when the operator listed this host name (lower case, no trailing dot). */
export function allowsHost(list: WebhookAllowList | undefined, hostname: string): boolean {
  return list?.hosts.has(hostname) ?? false;
}

/** True when the address lies in a listed address or range (IPv4 and IPv6 kept apart). */
export function allowsAddress(list: WebhookAllowList | undefined, address: string): boolean {
  const ip = parseIp(address);
  if (!ip || !list) return false;
  return list.ranges.some(
    (r) => r.prefix.length === ip.bytes.length && inPrefix(ip.bytes, r.prefix, r.length),
  );
}
