import { networkInterfaces } from 'node:os';
import { parseIp } from './ip.ts';

/** An address as comparable text: its bytes (so ::ffff:1.2.3.4 and 1.2.3.4 differ, as they do). */
function keyOf(address: string): string | undefined {
  const ip = parseIp(address);
  return ip ? `${ip.version}:${ip.bytes.join('.')}` : undefined;
}

let own: Set<string> | undefined;

/**
 * The addresses of this machine's own interfaces. A host whose interface has a public address
 * would otherwise accept webhooks to itself, reaching whatever listens on all interfaces there
 * (the worker's health port, a database): refused like loopback. Read once per process.
 */
export function isOwnAddress(address: string): boolean {
  own ??= new Set(
    Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .map((info) => keyOf(info.address))
      .filter((key): key is string => key !== undefined),
  );
  const key = keyOf(address);
  return key !== undefined && own.has(key);
}
