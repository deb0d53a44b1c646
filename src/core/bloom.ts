/**
 * The Bloom filter of the `filter` feed: bloom-filters' `BloomFilter`, with its documented hashing
 * extension point (a `Hashing` subclass as `_hashing`) replaced by the expression hash, because its default
 * pure-JS xxhash is an order of magnitude slower and runs twice per element. bloom-filters builds the filter
 * and holds its bit array (the payload's bytes); lookups test that array's bits directly (see `hasHash`).
 *
 * Indexes come from enhanced double hashing (Dillinger and Manolios) over the first 64 bits of the hash:
 * x = h[0] mod m, y = h[1] mod m, then index i is x, and x += y, y += i (all mod m). The step grows, so a
 * zero or short-cycled step still yields spread indexes for any m.
 */
import bloomFilters from 'bloom-filters';
import { hashExpression } from './hash.ts';
import { fail, ok, type Result } from './types.ts';

const { BloomFilter, Hashing } = bloomFilters;
type BloomFilterInstance = InstanceType<typeof BloomFilter>;
type HashableInput = Parameters<InstanceType<typeof Hashing>['getIndexes']>[0];

/** Largest filter in bits: indexes are derived from 32-bit hash words and written as a u32. */
const MAX_BLOOM_BITS = 0xffffffff;

/**
 * Hashes each element once with {@link hashExpression} and keeps the result in `hash`, so the caller can
 * derive the confirmation key from the same hash. The index array is reused: `add` and `has` only read it.
 */
class ExpressionHashing extends Hashing {
  readonly hash = new Uint32Array(4);
  private readonly indexes: number[] = [];

  override getIndexes(element: HashableInput, size: number, hashCount: number): number[] {
    if (typeof element !== 'string') throw new TypeError('filter elements are expression strings');
    const hash = this.hash;
    hashExpression(element, hash);
    const indexes = this.indexes;
    indexes.length = hashCount;
    let x = (hash[0] as number) % size;
    let y = (hash[1] as number) % size;
    for (let i = 0; i < hashCount; i++) {
      indexes[i] = x;
      x += y;
      if (x >= size) x -= size;
      y += i;
      if (y >= size) y %= size;
    }
    return indexes;
  }
}

/**
 * A Bloom filter over expressions. After {@link add} or {@link has}, {@link hash} holds the expression's
 * 128-bit hash, so one hash per expression serves both the filter and the confirmation key.
 */
export class ExpressionBloom {
  /** The hash of the expression last passed to `add` or `has` (overwritten by the next call). */
  readonly hash: Uint32Array;
  /** bloom-filters' own bit array, bit i at byte i >> 3, mask 1 << (i & 7). */
  private readonly bits: Uint8Array;
  private readonly m: number;
  private readonly k: number;

  private constructor(private readonly filter: BloomFilterInstance) {
    const hashing = new ExpressionHashing();
    filter._hashing = hashing;
    this.hash = hashing.hash;
    this.bits = filter._filter.array;
    this.m = filter.size;
    this.k = filter._nbHashes;
  }

  /** An empty filter sized for `expectedCount` elements at false-positive rate `fpr` (bloom-filters' optimum). */
  static create(expectedCount: number, fpr: number): ExpressionBloom {
    if (!(fpr > 0 && fpr < 1)) throw new RangeError(`Bloom false-positive rate ${fpr} is not in (0, 1)`);
    const filter = BloomFilter.create(Math.max(1, expectedCount), fpr);
    if (filter.size > MAX_BLOOM_BITS) {
      throw new RangeError(`Bloom filter of ${filter.size} bits for ${expectedCount} elements exceeds 2^32`);
    }
    return new ExpressionBloom(filter);
  }

  /** A filter of `size` bits and `hashCount` hashes holding `bytes`, its raw bit array (copied). */
  static fromBytes(size: number, hashCount: number, bytes: Uint8Array): Result<ExpressionBloom> {
    if (!Number.isInteger(size) || size < 1 || size > MAX_BLOOM_BITS) {
      return fail('bloom_malformed', `Bloom size ${size} bits is out of range`);
    }
    if (!Number.isInteger(hashCount) || hashCount < 1 || hashCount > 255) {
      return fail('bloom_malformed', `Bloom hash count ${hashCount} is out of range`);
    }
    if (bytes.length !== byteLength(size)) {
      return fail('bloom_malformed', `Bloom bit array of ${bytes.length} bytes does not match ${size} bits`);
    }
    // Bits past `size` are never set: one canonical encoding per filter.
    const spare = size % 8;
    if (spare !== 0 && (bytes[bytes.length - 1] as number) >>> spare !== 0) {
      return fail('bloom_malformed', 'Bloom bit array has bits set past its size');
    }
    const filter = new BloomFilter(size, hashCount);
    filter._filter.array.set(bytes);
    return ok(new ExpressionBloom(filter));
  }

  /** Number of bits (m). */
  get size(): number {
    return this.m;
  }

  /** Number of hash functions (k). */
  get hashCount(): number {
    return this.k;
  }

  add(expression: string): void {
    this.filter.add(expression);
  }

  /** Whether the expression may be a member: false is certain, true is wrong with the filter's rate. */
  has(expression: string): boolean {
    hashExpression(expression, this.hash);
    return this.hasHash(this.hash);
  }

  /**
   * {@link has} for an expression already hashed by `hashExpression`: the indexes bloom-filters' `has` tests
   * (the same double hashing as `getIndexes`), computed one at a time, stopping at the first zero bit. A
   * non-member costs about two probes instead of k, and nothing is allocated.
   */
  hasHash(hash: Uint32Array): boolean {
    const bits = this.bits;
    const size = this.m;
    const k = this.k;
    let x = (hash[0] as number) % size;
    let y = (hash[1] as number) % size;
    for (let i = 0; i < k; i++) {
      if (((bits[x >>> 3] as number) & (1 << (x & 7))) === 0) return false;
      x += y;
      if (x >= size) x -= size;
      y += i;
      if (y >= size) y %= size;
    }
    return true;
  }

  /** bloom-filters' own `has`, through its hashing extension point: the reference {@link has} must equal. */
  libraryHas(expression: string): boolean {
    return this.filter.has(expression);
  }

  /** The raw bit array, bit i at byte i >> 3, mask 1 << (i & 7); a view, not a copy. */
  bytes(): Uint8Array {
    return this.bits;
  }
}

/** Bytes of the raw bit array of a filter of `size` bits. */
export const byteLength = (size: number): number => Math.ceil(size / 8);
