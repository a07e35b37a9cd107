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

const TIME_END = 'gen_'.length + 10;

let last = '';

/** The next id in base 32: the random part plus one, carrying left. */
function increment(id: string): string {
  const chars = id.split(''); // base-32 ASCII: one code unit per digit
  for (let i = chars.length - 1; i >= TIME_END; i--) {
    const digit = CROCKFORD.indexOf(chars[i] ?? '0');
    if (digit < 31) {
      chars[i] = CROCKFORD[digit + 1] ?? '0';
      return chars.join('');
    }
    chars[i] = '0';
  }
  // 80 random bits exhausted within one millisecond cannot happen in practice.
  return newJobId();
}

/**
 * Job ids sort by creation time, but two ULIDs minted in the same millisecond compare by their
 * random part, so "newest first" lists (createdAt, then id) would shuffle a burst of jobs. Within
 * one process, a same-millisecond id is the previous one plus one (a monotonic ULID).
 */
export function nextJobId(nowMs: number): string {
  let id = newJobId(nowMs);
  if (id.slice(0, TIME_END) === last.slice(0, TIME_END) && id <= last) id = increment(last);
  last = id;
  return id;
}
