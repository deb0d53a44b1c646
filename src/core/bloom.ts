/**
 * The Bloom filter of the `filter` feed. Its elements are not expressions but (class, confirmation key,
 * extension) triples (confirm.ts), so a consumer can add a key that a delta carries: a key added between two
 * snapshots is then checked exactly as the snapshot's own keys are, behind the same filter.
 *
 * Indexes come from enhanced double hashing (Dillinger and Manolios) over two words mixed from the W-bit key's
 * high part u (its top 32 bits, or the whole key when W <= 32), its low part v (the other W - 32 bits, else 0),
 * the extension e and the class, with MurmurHash3's 32-bit finalizer fmix32:
 *
 *   a = fmix32(v ^ imul(e + 1, 0x9e3779b1) ^ (path ? 0x5bd1e995 : 0)),  x = fmix32(u ^ a),
 *   y = fmix32(x ^ v ^ 0x85ebca6b);  index i is x mod m, then x += y, y += i (both mod m).
 *
 * Two members sharing a key but not an extension get unrelated indexes: that is what makes the filter stop a
 * non-member whose key collides with a member's. The step grows, so a zero or short-cycled step still spreads.
 *
 * bloom-filters' `BloomFilter` builds the filter and holds its bit array (the payload's bytes): its documented
 * hashing extension point (a `Hashing` subclass as `_hashing`) yields these indexes, because an element here is
 * a triple of numbers, not a string for its xxhash. Lookups test that array's bits directly (see `hasHash`).
 */
import bloomFilters from 'bloom-filters';
import { EXTENSION_BITS, KEY_HEAD_BITS } from './confirm.ts';
import { fail, ok, type Result } from './types.ts';

const { BloomFilter, Hashing } = bloomFilters;
type BloomFilterInstance = InstanceType<typeof BloomFilter>;
type HashableInput = Parameters<InstanceType<typeof Hashing>['getIndexes']>[0];

/** Largest filter in bits: indexes are 32-bit words and the size is written as a u32. */
const MAX_BLOOM_BITS = 0xffffffff;
/** Most hash functions a filter may use (a u8 in the payload; a rate of 2^-32 needs 32). */
const MAX_HASH_COUNT = 64;
/**
 * What `add` and `has` are given: `KeyHashing` ignores it and hashes the triple it was handed just before, so
 * an element costs no string or buffer.
 */
const PREPARED_TRIPLE = '';

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The first index word x of a triple (see the header). */
const firstWord = (high: number, low: number, extension: number, path: boolean): number =>
  fmix32(high ^ fmix32(low ^ Math.imul(extension + 1, 0x9e3779b1) ^ (path ? 0x5bd1e995 : 0)));
/** The step word y that follows `x` (see the header). */
const stepWord = (x: number, low: number): number => fmix32(x ^ low ^ 0x85ebca6b);

/** The high part u of the key of width `bits` that an expression's 128-bit `hash` gives. */
const hashHigh = (hash: Uint32Array, bits: number): number =>
  bits >= 32 ? (hash[2] as number) : (hash[2] as number) >>> (32 - bits);
/** The low part v of that key (0 when `bits` <= 32). */
const hashLow = (hash: Uint32Array, bits: number): number =>
  bits > 32 ? (hash[3] as number) >>> (64 - bits) : 0;
/** The extension e that `hash` gives. */
const hashExtension = (hash: Uint32Array): number => (hash[0] as number) >>> (32 - EXTENSION_BITS);

/**
 * Yields the indexes of the triple set by {@link prepare}, whatever element bloom-filters passes. The index
 * array is reused: `add` and `has` only read it.
 */
class KeyHashing extends Hashing {
  private high = 0;
  private low = 0;
  private extension = 0;
  private path = false;
  private readonly indexes: number[] = [];

  prepare(high: number, low: number, extension: number, path: boolean): void {
    this.high = high;
    this.low = low;
    this.extension = extension;
    this.path = path;
  }

  override getIndexes(_element: HashableInput, size: number, hashCount: number): number[] {
    const indexes = this.indexes;
    indexes.length = hashCount;
    let x = firstWord(this.high, this.low, this.extension, this.path);
    let y = stepWord(x, this.low) % size;
    x %= size;
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

/** False-positive rate of a Bloom filter of `size` bits and `hashCount` hashes holding `count` elements. */
export const bloomRate = (size: number, hashCount: number, count: number): number =>
  (1 - Math.exp((-hashCount * count) / size)) ** hashCount;

/**
 * The fewest bits (and their hash count) for `capacity` elements at rate `fpr`: of the two whole hash counts
 * around the optimum log2(1/fpr), the one that needs the smaller filter. Not bloom-filters' `create`: its
 * formulas are not exported, and they take the real-valued optimum size and then round the hash count up,
 * which misses the rate (1/32 asks 6 hashes and gets 0.0324) and gives other sizes, so other payloads.
 */
export function bloomShape(capacity: number, fpr: number): { size: number; hashCount: number } {
  if (!(fpr > 0 && fpr < 1)) throw new RangeError(`Bloom false-positive rate ${fpr} is not in (0, 1)`);
  const ideal = Math.log2(1 / fpr);
  let best = { size: Number.POSITIVE_INFINITY, hashCount: 1 };
  for (const k of new Set([Math.max(1, Math.floor(ideal)), Math.max(1, Math.ceil(ideal))])) {
    const hashCount = Math.min(k, MAX_HASH_COUNT);
    // (1 - e^(-k n / m))^k = fpr, solved for m.
    const size = Math.max(8, Math.ceil((-hashCount * capacity) / Math.log1p(-(fpr ** (1 / hashCount)))));
    if (size < best.size) best = { size, hashCount };
  }
  if (best.size > MAX_BLOOM_BITS) {
    throw new RangeError(`Bloom filter of ${best.size} bits for ${capacity} elements exceeds 2^32`);
  }
  return best;
}

/** A Bloom filter over (class, key, extension); see the header for its indexes. */
export class KeyBloom {
  private readonly hashing = new KeyHashing();

  private constructor(
    /** Number of bits (m). */
    readonly size: number,
    /** Number of hash functions (k). */
    readonly hashCount: number,
    /** The raw bit array, bit i at byte i >> 3, mask 1 << (i & 7): bloom-filters' own, or a payload's bytes. */
    private readonly bits: Uint8Array,
    /**
     * bloom-filters' filter over `bits`: built by {@link create} and {@link copy}, which take elements; a view
     * of a payload ({@link fromBytes}) makes one only when asked for the library's own `has`, and takes none.
     */
    private filter: BloomFilterInstance | null,
    /** False for a view of a payload: its bytes are the payload's, never written. */
    private readonly takesElements: boolean,
  ) {
    if (filter !== null) filter._hashing = this.hashing;
  }

  /** An empty filter with room for `capacity` elements at rate `fpr` ({@link bloomShape}). */
  static create(capacity: number, fpr: number): KeyBloom {
    const { size, hashCount } = bloomShape(Math.max(1, capacity), fpr);
    return KeyBloom.owning(new BloomFilter(size, hashCount));
  }

  /**
   * A read-only filter of `size` bits and `hashCount` hashes over `bytes`, its raw bit array: a view, not a
   * copy, so a consumer holding the payload holds the filter once. {@link copy} gives one that takes elements.
   */
  static fromBytes(size: number, hashCount: number, bytes: Uint8Array): Result<KeyBloom> {
    if (!Number.isInteger(size) || size < 1 || size > MAX_BLOOM_BITS) {
      return fail('bloom_malformed', `Bloom size ${size} bits is out of range`);
    }
    if (!Number.isInteger(hashCount) || hashCount < 1 || hashCount > MAX_HASH_COUNT) {
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
    return ok(new KeyBloom(size, hashCount, bytes, null, false));
  }

  private static owning(filter: BloomFilterInstance): KeyBloom {
    return new KeyBloom(filter.size, filter._nbHashes, filter._filter.array, filter, true);
  }

  /** A copy that takes elements while this one stays as it is. */
  copy(): KeyBloom {
    const filter = new BloomFilter(this.size, this.hashCount);
    filter._filter.array.set(this.bits);
    return KeyBloom.owning(filter);
  }

  /** The filter that takes elements; a view of a payload takes none. */
  private writable(): BloomFilterInstance {
    if (this.filter === null || !this.takesElements) {
      throw new TypeError('a Bloom filter read from a payload takes no elements: add to a copy');
    }
    return this.filter;
  }

  /** Adds the key of width `bits` (`head` and `tail`, confirm.ts) with its extension; `path` for a path key. */
  addKey(head: number, tail: number, bits: number, extension: number, path: boolean): void {
    const headWidth = Math.min(bits, KEY_HEAD_BITS);
    const high = bits > 32 ? Math.floor(head / 2 ** (headWidth - 32)) : head;
    const low = bits > 32 ? (head - high * 2 ** (headWidth - 32)) * 2 ** (bits - headWidth) + tail : 0;
    this.hashing.prepare(high, low, extension, path);
    this.writable().add(PREPARED_TRIPLE);
  }

  /** Adds the key of width `bits` that `hash` (an expression's 128-bit hash) gives, with its extension. */
  addHash(hash: Uint32Array, bits: number, path: boolean): void {
    this.hashing.prepare(hashHigh(hash, bits), hashLow(hash, bits), hashExtension(hash), path);
    this.writable().add(PREPARED_TRIPLE);
  }

  /**
   * Whether the key of width `bits` that `hash` (an expression's 128-bit hash) gives may be a member: the
   * indexes bloom-filters' `has` tests (those of `KeyHashing`), computed one at a time and stopping at the
   * first zero bit, so a non-member costs about two probes instead of k; allocates nothing.
   */
  hasHash(hash: Uint32Array, bits: number, path: boolean): boolean {
    const low = hashLow(hash, bits);
    const size = this.size;
    const array = this.bits;
    let x = firstWord(hashHigh(hash, bits), low, hashExtension(hash), path);
    let y = stepWord(x, low) % size;
    x %= size;
    for (let i = 0; i < this.hashCount; i++) {
      if (((array[x >>> 3] as number) & (1 << (x & 7))) === 0) return false;
      x += y;
      if (x >= size) x -= size;
      y += i;
      if (y >= size) y %= size;
    }
    return true;
  }

  /** bloom-filters' own `has`, through its hashing extension point: the reference {@link hasHash} must equal. */
  libraryHas(hash: Uint32Array, bits: number, path: boolean): boolean {
    if (this.filter === null) {
      // bloom-filters over the same bytes, only read here.
      this.filter = new BloomFilter(this.size, this.hashCount);
      this.filter._filter.array = this.bits;
      this.filter._hashing = this.hashing;
    }
    this.hashing.prepare(hashHigh(hash, bits), hashLow(hash, bits), hashExtension(hash), path);
    return this.filter.has(PREPARED_TRIPLE);
  }

  /** The raw bit array, bit i at byte i >> 3, mask 1 << (i & 7); a view, not a copy. */
  bytes(): Uint8Array {
    return this.bits;
  }
}

/** Bytes of the raw bit array of a filter of `size` bits. */
export const byteLength = (size: number): number => Math.ceil(size / 8);
