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
  for (let i = 0; i < keys.length; i++) {
    const key = cursor.next();
    if (key < 0) return cursor.failure();
    keys[i] = key;
  }
  if (!cursor.atCleanEnd()) return fail('rice_malformed', 'rice data has trailing bytes or non-zero padding');
  return ok({ bits: cursor.bits, keys });
}

/**
 * Reads a Rice-coded key set one key at a time, checking every gap as it goes, and can be put back at any key
 * whose bit position it reported: a consumer can keep the coded bytes and search them through a sampled index
 * instead of holding the decoded keys.
 */
export class RiceCursor {
  private readonly reader: BitReader;
  private readonly limit: number;
  private readonly unit: number;
  /** Index of the key {@link next} returns. */
  private index = 0;
  private previous = 0;
  private problem: { code: string; message: string } | null = null;

  private constructor(
    bytes: Uint8Array,
    /** Keys in the set. */
    readonly count: number,
    /** Every key is below 2^bits. */
    readonly bits: number,
    /** The Rice parameter. */
    readonly k: number,
    private readonly first: number,
  ) {
    this.reader = new BitReader(bytes, RICE_HEADER_BYTES);
    this.limit = 2 ** bits;
    this.unit = 2 ** k;
  }

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

  /** Index of the key the next {@link next} returns. */
  get at(): number {
    return this.index;
  }

  /** Bit offset in the gap stream of the key the next {@link next} returns (after the first key). */
  get position(): number {
    return this.reader.position;
  }

  /**
   * The next key, or -1 when the bytes are malformed there ({@link failure} says why) or the set has ended.
   * Keys after a -1 are not to be trusted.
   */
  next(): number {
    const i = this.index;
    if (i >= this.count) return this.stop('rice_malformed', 'read past the last key');
    this.index = i + 1;
    if (i === 0) {
      this.previous = this.first;
      return this.first;
    }
    const previous = this.previous;
    // The largest quotient that keeps the key below 2^bits bounds the unary run.
    const q = this.reader.readUnary(Math.floor((this.limit - 2 - previous) / this.unit));
    if (q < 0) return this.stop('rice_malformed', `gap ${i} runs past the end or past 2^${this.bits}`);
    const r = this.reader.readWide(this.k);
    if (r < 0) return this.stop('rice_truncated', `gap ${i} remainder runs past the end`);
    const key = previous + 1 + q * this.unit + r;
    if (key >= this.limit) return this.stop('rice_malformed', `key ${i} is not below 2^${this.bits}`);
    this.previous = key;
    return key;
  }

  /** Puts the cursor at key `index`, whose predecessor is `previous` and whose gap starts at bit `position`. */
  seek(index: number, previous: number, position: number): void {
    this.index = index;
    this.previous = previous;
    this.reader.seek(position);
  }

  /** Whether every byte was read and the padding bits are zero. */
  atCleanEnd(): boolean {
    return this.reader.atCleanEnd();
  }

  /** Why {@link next} returned -1. */
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

/** Reads what {@link BitWriter} wrote; -1 from a read means the bytes ran out. */
class BitReader {
  private acc = 0;
  private filled = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
  ) {}

  /** Bits read so far, counted from the start of the bytes. */
  get position(): number {
    return this.pos * 8 - this.filled;
  }

  /** Continues at bit `position` (one {@link position} reported). */
  seek(position: number): void {
    this.pos = Math.floor(position / 8);
    this.acc = 0;
    this.filled = 0;
    const skip = position % 8;
    if (skip > 0) this.readBits(skip);
  }

  readBits(n: number): number {
    while (this.filled < n) {
      if (this.pos >= this.bytes.length) return -1;
      this.acc |= (this.bytes[this.pos++] as number) << this.filled;
      this.filled += 8;
    }
    const value = this.acc & ((1 << n) - 1);
    this.acc >>>= n;
    this.filled -= n;
    return value;
  }

  /** A run of one-bits ended by a zero-bit; -1 when the bytes end first or the run exceeds `max`. */
  readUnary(max: number): number {
    let run = 0;
    for (;;) {
      if (this.filled === 0) {
        if (this.pos >= this.bytes.length) return -1;
        this.acc = this.bytes[this.pos++] as number;
        this.filled = 8;
      }
      // Trailing one-bits of the buffered byte, counted at once.
      const zeros = ~this.acc;
      const ones = 31 - Math.clz32(zeros & -zeros);
      if (ones < this.filled) {
        run += ones;
        this.acc >>>= ones + 1;
        this.filled -= ones + 1;
        return run > max ? -1 : run;
      }
      run += this.filled;
      this.acc = 0;
      this.filled = 0;
      if (run > max) return -1;
    }
  }

  readWide(n: number): number {
    let value = 0;
    let scale = 1;
    for (; n > 0; n -= CHUNK) {
      const width = Math.min(n, CHUNK);
      const chunk = this.readBits(width);
      if (chunk < 0) return -1;
      value += chunk * scale;
      scale *= 2 ** width;
    }
    return value;
  }

  /** Whether every byte was consumed and the padding bits are zero. */
  atCleanEnd(): boolean {
    return this.pos === this.bytes.length && this.acc === 0;
  }
}
