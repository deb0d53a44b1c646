/**
 * Rice coding of a sorted set of keys below 2^53, as Safe Browsing codes its hash prefixes: the first key
 * in the header, then each gap (difference to the previous key, minus one, since keys are unique) as a
 * unary quotient and a `k`-bit remainder. Bit arithmetic is on 32-bit integers in chunks of at most 24
 * bits and exact float multiplication by powers of two, so 53-bit keys need no BigInt.
 *
 * Layout (big-endian integers):
 *
 *   offset  size  field
 *   0       4     count of keys
 *   4       1     bits: every key is below 2^bits (1..53)
 *   5       1     k: the Rice parameter (0..bits)
 *   6       8     first key (0 when count is 0)
 *   14      ...   count-1 gaps, bits packed least significant first within each byte:
 *                 quotient q = floor(gap / 2^k) as q one-bits and a zero-bit, then the remainder's k bits,
 *                 least significant first; the last byte is padded with zero-bits.
 */
import { fail, ok, type Result } from './types.ts';

export const RICE_HEADER_BYTES = 14;
const MAX_BITS = 53;
const CHUNK = 24;
const TWO_32 = 2 ** 32;

/** Keys handed to the encoder are not sorted unique integers below 2^bits. */
export class RiceInputError extends RangeError {
  override readonly name = 'RiceInputError';
}

/** A decoded key set: every key is below 2^bits, strictly increasing. */
export interface RiceKeys {
  bits: number;
  keys: Float64Array;
}

/** Rice-code `sortedUniqueKeys` (strictly increasing integers below 2^bits); see the layout above. */
export function riceEncode(sortedUniqueKeys: Float64Array, bits: number): Uint8Array {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_BITS)
    throw new RiceInputError(`bits ${bits} not in 1..53`);
  checkKeys(sortedUniqueKeys, bits);
  const count = sortedUniqueKeys.length;
  const k = count > 1 ? bestParameter(sortedUniqueKeys, bits) : 0;
  const streamBits = count > 1 ? costInBits(sortedUniqueKeys, k) : 0;
  const out = new Uint8Array(RICE_HEADER_BYTES + Math.ceil(streamBits / 8));
  const view = new DataView(out.buffer);
  const first = count > 0 ? (sortedUniqueKeys[0] as number) : 0;
  view.setUint32(0, count);
  out[4] = bits;
  out[5] = k;
  view.setUint32(6, Math.floor(first / TWO_32));
  view.setUint32(10, first % TWO_32);

  const writer = new BitWriter(out, RICE_HEADER_BYTES);
  const scale = 2 ** -k;
  for (let i = 1; i < count; i++) {
    const gap = (sortedUniqueKeys[i] as number) - (sortedUniqueKeys[i - 1] as number) - 1;
    const q = Math.floor(gap * scale);
    writer.writeOnes(q);
    writer.writeBits(0, 1);
    writer.writeWide(gap - q * 2 ** k, k);
  }
  writer.flush();
  return out;
}

/** Decode a Rice-coded key set; a failure (never an exception or an endless loop) for malformed bytes. */
export function riceDecode(bytes: Uint8Array): Result<RiceKeys> {
  const opened = RiceCursor.open(bytes);
  if (!opened.ok) return opened;
  const cursor = opened.value;
  const keys = new Float64Array(cursor.count);
  if (cursor.read(keys, 0, keys.length) < 0) return cursor.failure();
  if (!cursor.atCleanEnd()) return fail('rice_malformed', 'rice data has trailing bytes or non-zero padding');
  return ok({ bits: cursor.bits, keys });
}

/**
 * Reads a Rice-coded key set a run of keys at a time, checking every gap as it goes, and can be put back at
 * any key whose bit position it reported: a consumer can keep the coded bytes and search them through a
 * sampled index instead of holding the decoded keys. The gap loop keeps its bit buffer in locals: it is what
 * loading a 10M-key snapshot spends its time on.
 */
export class RiceCursor {
  /** Next byte to buffer. */
  private pos = RICE_HEADER_BYTES;
  /** Buffered bits, least significant first, and how many. */
  private acc = 0;
  private filled = 0;
  /** Index of the next key to read, and the key before it. */
  private index = 0;
  private previous = 0;
  private problem: { code: string; message: string } | null = null;

  private constructor(
    private readonly bytes: Uint8Array,
    /** Keys in the set. */
    readonly count: number,
    /** Every key is below 2^bits. */
    readonly bits: number,
    /** The Rice parameter. */
    readonly k: number,
    private readonly first: number,
  ) {}

  /** A cursor before the first key; a failure when the header is malformed or the count cannot fit. */
  static open(bytes: Uint8Array): Result<RiceCursor> {
    if (bytes.length < RICE_HEADER_BYTES)
      return fail('rice_truncated', `rice header needs 14 bytes, got ${bytes.length}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(0);
    const bits = bytes[4] as number;
    const k = bytes[5] as number;
    const first = view.getUint32(6) * TWO_32 + view.getUint32(10);
    if (bits < 1 || bits > MAX_BITS) return fail('rice_malformed', `rice bits ${bits} not in 1..53`);
    if (k > bits) return fail('rice_malformed', `rice parameter ${k} exceeds bits ${bits}`);
    if (first >= 2 ** bits) return fail('rice_malformed', `first key ${first} is not below 2^${bits}`);
    const streamBits = (bytes.length - RICE_HEADER_BYTES) * 8;
    if (count === 0 && (first !== 0 || streamBits !== 0)) {
      return fail('rice_malformed', 'empty rice set carries data');
    }
    // Every gap takes at least k+1 bits: refuse a count the bytes cannot hold before allocating for it.
    if (count > 0 && (count - 1) * (k + 1) > streamBits) {
      return fail('rice_truncated', `${count} keys cannot fit in ${bytes.length} bytes`);
    }
    return ok(new RiceCursor(bytes, count, bits, k, first));
  }

  /** Index of the key the next read starts with. */
  get at(): number {
    return this.index;
  }

  /** Bit offset (from the start of the bytes) of the gap of the key the next read starts with. */
  get position(): number {
    return this.pos * 8 - this.filled;
  }

  /** Puts the cursor at key `index` (> 0), whose predecessor is `previous` and whose gap starts at bit `position`. */
  seek(index: number, previous: number, position: number): void {
    this.index = index;
    this.previous = previous;
    this.pos = Math.floor(position / 8);
    const skip = position % 8;
    this.filled = skip === 0 ? 0 : 8 - skip;
    this.acc = skip === 0 ? 0 : (this.bytes[this.pos++] as number) >>> skip;
  }

  /**
   * Reads at most `max` keys into `out` from index `from`, stopping after the first key >= `stop`; the number
   * read (0 at the end of the set), or -1 when the bytes are malformed there ({@link failure} says why).
   */
  read(out: Float64Array, from: number, max: number, stop = Number.POSITIVE_INFINITY): number {
    const bytes = this.bytes;
    const length = bytes.length;
    const k = this.k;
    const unit = 2 ** k;
    const limit = 2 ** this.bits;
    let { pos, acc, filled, index, previous } = this;
    const end = Math.min(this.count, index + max);
    let read = 0;
    while (index < end) {
      let key: number;
      if (index === 0) {
        key = this.first;
      } else {
        // The quotient: a run of one-bits ended by a zero-bit, counted a buffered byte at a time.
        let q = 0;
        for (;;) {
          if (filled === 0) {
            if (pos >= length) return this.stop('rice_malformed', `gap ${index} runs past the end`);
            acc = bytes[pos++] as number;
            filled = 8;
          }
          const ones = 31 - Math.clz32(~acc & (acc + 1));
          if (ones < filled) {
            q += ones;
            acc >>>= ones + 1;
            filled -= ones + 1;
            break;
          }
          q += filled;
          acc = 0;
          filled = 0;
        }
        // The remainder's k bits, in chunks of at most 24 bits, low chunk first.
        let r = 0;
        let scale = 1;
        for (let left = k; left > 0; left -= CHUNK) {
          const width = Math.min(left, CHUNK);
          while (filled < width) {
            if (pos >= length) return this.stop('rice_truncated', `gap ${index} remainder runs past the end`);
            acc |= (bytes[pos++] as number) << filled;
            filled += 8;
          }
          r += (acc & ((1 << width) - 1)) * scale;
          acc >>>= width;
          filled -= width;
          scale *= 1 << width;
        }
        key = previous + 1 + q * unit + r;
        if (key >= limit) return this.stop('rice_malformed', `key ${index} is not below 2^${this.bits}`);
      }
      out[from + read++] = key;
      previous = key;
      index++;
      if (key >= stop) break;
    }
    this.pos = pos;
    this.acc = acc;
    this.filled = filled;
    this.index = index;
    this.previous = previous;
    return read;
  }

  /** Whether every byte was read and the padding bits are zero. */
  atCleanEnd(): boolean {
    return this.pos === this.bytes.length && this.acc === 0;
  }

  /** Why {@link read} returned -1. */
  failure(): Result<never> {
    const problem = this.problem ?? { code: 'rice_malformed', message: 'rice data is malformed' };
    return fail(problem.code, problem.message);
  }

  private stop(code: string, message: string): number {
    this.problem = { code, message };
    return -1;
  }
}

function checkKeys(keys: Float64Array, bits: number): void {
  const limit = 2 ** bits;
  let previous = -1;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    if (!Number.isInteger(key) || key <= previous || key >= limit) {
      throw new RiceInputError(
        `key ${key} at index ${i} is not an integer above ${previous} and below 2^${bits}`,
      );
    }
    previous = key;
  }
}

/** Bits of the gap stream with parameter k: every gap costs its quotient + 1 + k. */
function costInBits(keys: Float64Array, k: number): number {
  const scale = 2 ** -k;
  let total = 0;
  for (let i = 1; i < keys.length; i++) {
    total += Math.floor(((keys[i] as number) - (keys[i - 1] as number) - 1) * scale);
  }
  return total + (keys.length - 1) * (k + 1);
}

/**
 * The parameter with the smallest stream: start from log2 of the mean gap (optimal for the geometric gaps
 * of hashed keys) and step while a neighbour is smaller, which also absorbs a few outlying gaps.
 */
function bestParameter(keys: Float64Array, bits: number): number {
  const meanGap = ((keys[keys.length - 1] as number) - (keys[0] as number)) / (keys.length - 1);
  let k = Math.min(bits, Math.max(0, Math.floor(Math.log2(Math.max(meanGap * Math.LN2, 1)))));
  let cost = costInBits(keys, k);
  for (const step of [-1, 1]) {
    for (let next = k + step; next >= 0 && next <= bits; next += step) {
      const nextCost = costInBits(keys, next);
      if (nextCost >= cost) break;
      k = next;
      cost = nextCost;
    }
  }
  return k;
}

/** Writes bits least significant first into a buffer sized in advance. */
class BitWriter {
  private acc = 0;
  private filled = 0;
  constructor(
    private readonly out: Uint8Array,
    private pos: number,
  ) {}

  /** Append the low `n` (<= 24) bits of `value`. */
  writeBits(value: number, n: number): void {
    this.acc |= value << this.filled;
    this.filled += n;
    while (this.filled >= 8) {
      this.out[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.filled -= 8;
    }
  }

  writeOnes(count: number): void {
    for (; count >= CHUNK; count -= CHUNK) this.writeBits(0xffffff, CHUNK);
    if (count > 0) this.writeBits((1 << count) - 1, count);
  }

  /** Append `n` (<= 53) bits of the whole number `value`, least significant chunk first. */
  writeWide(value: number, n: number): void {
    for (; n > CHUNK; n -= CHUNK) {
      const low = value % 2 ** CHUNK;
      this.writeBits(low, CHUNK);
      value = (value - low) / 2 ** CHUNK;
    }
    if (n > 0) this.writeBits(value, n);
  }

  flush(): void {
    if (this.filled > 0) this.out[this.pos++] = this.acc & 0xff;
    this.acc = 0;
    this.filled = 0;
  }
}
