/**
 * One key class of a `filter` snapshot searched where it lies: the Rice-coded heads, packed tails and
 * wildcard indexes stay the payload's bytes, and a sampled index (every {@link SAMPLE_EVERY}-th key with the
 * bit position of the gap after it) narrows a search to one run of gaps. A consumer holding the payload then
 * holds the keys once, at their coded size, instead of beside a decoded copy (docs/DECISIONS.md).
 */
import { headBits, tailBits } from './confirm.ts';
import type { KeySource } from './filter-checksum.ts';
import { containsKey, TAIL_ANY } from './filter-keys.ts';
import type { CodedClass } from './filter-payload.ts';
import { RiceCursor } from './rice.ts';
import { fail, ok, type Result } from './types.ts';

/**
 * Keys per sample: a search decodes at most this many gaps after a binary search over the samples. 64 keeps
 * the index near 2 % of the coded keys (16 bytes per sample against some 40 bits per key).
 */
export const SAMPLE_EVERY = 64;

/** A class's sorted unique key heads (with tails) read from the payload's bytes. */
export class CodedKeys {
  private constructor(
    /** The Rice-coded heads. */
    private readonly heads: Uint8Array,
    /** Keys in the class. */
    readonly count: number,
    /** Tail bits per key (0 for keys of at most 53 bits). */
    private readonly tailBits: number,
    private readonly tails: Uint8Array,
    private readonly wildcards: Float64Array,
    /** Key `i * SAMPLE_EVERY`, for every i. */
    private readonly sampleKeys: Float64Array,
    /** Bit position of the gap after key `i * SAMPLE_EVERY`. */
    private readonly samplePositions: Float64Array,
    /** One cursor for every search, so a search allocates nothing. */
    private readonly cursor: RiceCursor,
  ) {}

  /**
   * The keys of a class of width `bits`: one pass over every gap checks the coding (a malformed stream is a
   * failure here, never later in a lookup) and takes the samples.
   */
  static open(coded: CodedClass, bits: number): Result<CodedKeys> {
    const opened = RiceCursor.open(coded.heads);
    if (!opened.ok) return opened;
    const cursor = opened.value;
    if (cursor.bits !== headBits(bits)) {
      return fail('filter_malformed', `heads have width ${cursor.bits}, the class ${headBits(bits)}`);
    }
    const samples = Math.ceil(cursor.count / SAMPLE_EVERY);
    const sampleKeys = new Float64Array(samples);
    const samplePositions = new Float64Array(samples);
    for (let i = 0; i < cursor.count; i++) {
      const key = cursor.next();
      if (key < 0) return cursor.failure();
      if (i % SAMPLE_EVERY === 0) {
        sampleKeys[i / SAMPLE_EVERY] = key;
        samplePositions[i / SAMPLE_EVERY] = cursor.position;
      }
    }
    if (!cursor.atCleanEnd())
      return fail('rice_malformed', 'rice data has trailing bytes or non-zero padding');
    const { heads, count, tails, wildcards } = coded;
    return ok(
      new CodedKeys(heads, count, tailBits(bits), tails, wildcards, sampleKeys, samplePositions, cursor),
    );
  }

  /** The index of `key`, or -1. */
  indexOf(key: number): number {
    const below = this.lowerBound(key);
    return below < this.count && this.found === key ? below : -1;
  }

  /** How many keys are below `key`. */
  lowerBound(key: number): number {
    const samples = this.sampleKeys;
    // The last sample at or below `key`.
    let low = 0;
    let high = samples.length - 1;
    if (high < 0 || (samples[0] as number) > key) {
      this.found = high < 0 ? -1 : (samples[0] as number);
      return 0;
    }
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((samples[middle] as number) <= key) low = middle;
      else high = middle - 1;
    }
    const start = low * SAMPLE_EVERY;
    const sampled = samples[low] as number;
    this.found = sampled;
    if (sampled === key) return start;
    const end = Math.min(this.count, start + SAMPLE_EVERY);
    const cursor = this.cursor;
    cursor.seek(start + 1, sampled, this.samplePositions[low] as number);
    for (let i = start + 1; i < end; i++) {
      const next = cursor.next();
      if (next >= key) {
        this.found = next;
        return i;
      }
    }
    this.found = end < this.count ? (samples[low + 1] as number) : -1;
    return end;
  }

  /** The key at the index {@link lowerBound} returned last (-1 past the end). */
  private found = -1;

  /** The tail of key `index` ({@link TAIL_ANY} when it matches any tail; 0 without tails). */
  tailAt(index: number): number {
    const width = this.tailBits;
    if (width === 0) return 0;
    if (this.wildcards.length > 0 && containsKey(this.wildcards, index)) return TAIL_ANY;
    const bit = index * width;
    const at = bit >>> 3;
    const bytes = this.tails;
    // A tail is at most 11 bits: three bytes hold it wherever it starts.
    const word = (bytes[at] as number) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16);
    return (word >>> (bit & 7)) & ((1 << width) - 1);
  }

  /** The keys in order, through a cursor of their own. */
  reader(): KeySource {
    const opened = RiceCursor.open(this.heads);
    if (!opened.ok) throw new Error('coded keys changed after they were checked');
    const cursor = opened.value;
    return {
      count: this.count,
      next: () => (cursor.at < cursor.count ? cursor.next() : -1),
    };
  }
}
