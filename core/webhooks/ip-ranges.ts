import { formatV4, inPrefix, parseIp, type IpBytes } from './ip.ts';

/**
 * What an address is, for SSRF purposes. Only `public` may be called; `loopback` only where the
 * caller allows local-mode delivery; everything else names the range that refused it.
 */
export type AddressClass =
  | { readonly kind: 'public' }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'blocked'; readonly range: string }
  | { readonly kind: 'invalid' };

interface Range {
  readonly prefix: Uint8Array;
  readonly length: number;
  readonly name: string;
}

function range(cidr: string, name: string): Range {
  const [address = '', length = ''] = cidr.split('/');
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`bad range ${cidr}`);
  return { prefix: parsed.bytes, length: Number(length), name };
}

// The IANA IPv4 special-purpose registry (RFC 6890 and successors), most specific first so the
// reason names the precise range (metadata before link-local, broadcast before reserved).
const V4_BLOCKED: readonly Range[] = [
  range('169.254.169.254/32', 'cloud metadata'),
  range('169.254.170.2/32', 'cloud metadata (ECS task)'),
  range('100.100.100.200/32', 'cloud metadata (Alibaba)'),
  range('255.255.255.255/32', 'broadcast'),
  range('0.0.0.0/8', 'this network'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation'),
  range('192.31.196.0/24', 'AS112'),
  range('192.52.193.0/24', 'AMT'),
  range('192.88.99.0/24', '6to4 relay anycast'),
  range('192.168.0.0/16', 'private'),
  range('192.175.48.0/24', 'AS112'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
];
const V4_LOOPBACK = range('127.0.0.0/8', 'loopback');

// IPv6 forms that carry an IPv4 address in their last 32 bits: judged by that address, so
// `::ffff:127.0.0.1` or `64:ff9b::a9fe:a9fe` cannot smuggle a private target past the v4 table.
const V6_EMBEDDING_LAST_32: readonly Range[] = [
  range('::ffff:0:0/96', 'IPv4-mapped'),
  range('::ffff:0:0:0/96', 'IPv4-translated'),
  range('64:ff9b::/96', 'NAT64'),
  range('::/96', 'IPv4-compatible'),
];
const V6_6TO4 = range('2002::/16', '6to4');

const V6_BLOCKED: readonly Range[] = [
  range('fd00:ec2::254/128', 'cloud metadata'),
  range('::/128', 'unspecified'),
  range('64:ff9b:1::/48', 'NAT64 local-use'),
  range('100::/64', 'discard-only'),
  range('2001::/23', 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'),
  range('2001:db8::/32', 'documentation'),
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'SRv6 SIDs'),
  range('fc00::/7', 'unique local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
];
const V6_LOOPBACK = range('::1/128', 'loopback');
// Everything routable on the internet is in 2000::/3; the rest is unallocated or special.
const V6_GLOBAL_UNICAST = range('2000::/3', 'global unicast');

function find(ip: IpBytes, ranges: readonly Range[]): Range | undefined {
  return ranges.find((r) => matches(ip, r));
}

function matches(ip: IpBytes, r: Range): boolean {
  return r.prefix.length === ip.bytes.length && inPrefix(ip.bytes, r.prefix, r.length);
}

function classifyV4(ip: IpBytes, via?: string): AddressClass {
  if (matches(ip, V4_LOOPBACK)) return { kind: 'loopback' };
  const hit = find(ip, V4_BLOCKED);
  if (!hit) return { kind: 'public' };
  const embedded = via ? ` (${via} of ${formatV4(ip.bytes)})` : '';
  return { kind: 'blocked', range: `${hit.name}${embedded}` };
}

function classifyV6(ip: IpBytes): AddressClass {
  if (matches(ip, V6_LOOPBACK)) return { kind: 'loopback' };
  const blocked = find(ip, V6_BLOCKED);
  if (blocked) return { kind: 'blocked', range: blocked.name };
  const embedding = find(ip, V6_EMBEDDING_LAST_32);
  if (embedding) {
    return classifyV4({ version: 4, bytes: ip.bytes.slice(12, 16) }, embedding.name);
  }
  if (matches(ip, V6_6TO4)) {
    return classifyV4({ version: 4, bytes: ip.bytes.slice(2, 6) }, V6_6TO4.name);
  }
  if (!matches(ip, V6_GLOBAL_UNICAST)) return { kind: 'blocked', range: 'reserved' };
  return { kind: 'public' };
}

/** Classifies a textual IP address (IPv4, IPv6, bracketed IPv6). */
export function classifyAddress(text: string): AddressClass {
  const ip = parseIp(text);
  if (!ip) return { kind: 'invalid' };
  return ip.version === 4 ? classifyV4(ip) : classifyV6(ip);
}
