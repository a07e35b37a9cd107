import { newJobId } from '../../../core/ids.ts';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
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
