import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as its network-order bytes: 4 for IPv4, 16 for IPv6. */
export interface IpBytes {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/**
 * Parses a textual IPv4 or IPv6 address (brackets and all); undefined for anything else,
 * including zone ids (`fe80::1%eth0`), which never come from DNS or a URL we accept.
 */
export function parseIp(text: string): IpBytes | undefined {
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(address)) return { version: 4, bytes: parseV4(address) };
  if (isIPv6(address) && !address.includes('%')) return { version: 6, bytes: parseV6(address) };
  return undefined;
}

function parseV4(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

function parseV6(address: string): Uint8Array {
  const bytes = new Uint8Array(16);
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const words = [...groupsToWords(headGroups)];
  const tailWords = groupsToWords(tailGroups);
  // `::` stands for as many zero words as the two sides leave free.
  const zeros = tail === undefined ? 0 : 8 - words.length - tailWords.length;
  words.push(...new Array<number>(zeros).fill(0), ...tailWords);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/** Hex groups to 16-bit words; a trailing dotted IPv4 (`::ffff:1.2.3.4`) is two words. */
function groupsToWords(groups: readonly string[]): number[] {
  return groups.flatMap((group) => {
    if (!group.includes('.')) return [parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = parseV4(group);
    return [(a << 8) | b, (c << 8) | d];
  });
}

export function formatV4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

/** True when `bytes` lies in `prefix`/`length` (prefix given as bytes of the same family). */
export function inPrefix(bytes: Uint8Array, prefix: Uint8Array, length: number): boolean {
  for (let bit = 0; bit < length; bit += 8) {
    const remaining = Math.min(8, length - bit);
    const mask = (0xff << (8 - remaining)) & 0xff;
    const i = bit / 8;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}
