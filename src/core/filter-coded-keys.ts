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
 * Keys per sample: a search decodes at most this many gaps after a binary search over the samples. 32 keeps
 * the index under 8 % of the coded keys (12 bytes per sample against some 40 bits per key).
 */
export const SAMPLE_EVERY = 32;
/** Bit positions are 32-bit: a class's coded heads may take up to 512 MiB (some 100M keys). */
const MAX_HEAD_BYTES = 2 ** 29;

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
    private readonly samplePositions: Uint32Array,
    /** One cursor for every search, so a search allocates nothing. */
    private readonly cursor: RiceCursor,
  ) {}

  /**
   * The keys of a class of width `bits`: one pass over every gap checks the coding (a malformed stream is a
   * failure here, never later in a lookup) and takes the samples.
   */
  static open(coded: CodedClass, bits: number): Result<CodedKeys> {
    if (coded.heads.length > MAX_HEAD_BYTES) {
      return fail(
        'filter_unsupported',
        `coded heads of ${coded.heads.length} bytes exceed ${MAX_HEAD_BYTES}`,
      );
    }
    const opened = RiceCursor.open(coded.heads);
    if (!opened.ok) return opened;
    const cursor = opened.value;
    if (cursor.bits !== headBits(bits)) {
      return fail('filter_malformed', `heads have width ${cursor.bits}, the class ${headBits(bits)}`);
    }
    const samples = Math.ceil(cursor.count / SAMPLE_EVERY);
    const sampleKeys = new Float64Array(samples);
    const samplePositions = new Uint32Array(samples);
    const run = new Float64Array(SAMPLE_EVERY);
    for (let i = 0; i < samples; i++) {
      if (cursor.read(sampleKeys, i, 1) < 0) return cursor.failure();
      samplePositions[i] = cursor.position;
      if (cursor.read(run, 0, SAMPLE_EVERY - 1) < 0) return cursor.failure();
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
    const cursor = this.cursor;
    cursor.seek(start + 1, sampled, this.samplePositions[low] as number);
    const run = this.run;
    const read = cursor.read(run, 0, SAMPLE_EVERY - 1, key);
    if (read > 0 && (run[read - 1] as number) >= key) {
      this.found = run[read - 1] as number;
      return start + read;
    }
    const end = start + 1 + Math.max(read, 0);
    this.found = end < this.count ? (samples[low + 1] as number) : -1;
    return end;
  }

  /** The key at the index {@link lowerBound} returned last (-1 past the end). */
  private found = -1;
  /** The keys a search decodes. */
  private readonly run = new Float64Array(SAMPLE_EVERY);

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
      read: (out: Float64Array) => {
        const read = cursor.read(out, 0, out.length);
        if (read < 0) throw new Error('coded keys changed after they were checked');
        return read;
      },
    };
  }
}
