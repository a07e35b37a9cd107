import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID (48-bit millisecond time + 80 random bits, Crockford base32): ids sort by creation
 * time, so S3 listings and logs read in order, and they carry no tenant information.
 */
export function ulid(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = `${CROCKFORD[t % 32] ?? '0'}${time}`;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[(random[i] ?? 0) % 32] ?? '0';
  return time + rand;
}

export function newJobId(now = Date.now()): string {
  return `gen_${ulid(now)}`;
}
