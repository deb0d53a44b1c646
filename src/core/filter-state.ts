/**
 * A consumer's view of the `filter` feed: a snapshot's Bloom filter plus the deltas applied since.
 *
 * Full mode keeps the current sorted key set: a lookup is a Bloom hit (or a key added since the snapshot,
 * which the Bloom filter lacks) confirmed by binary search, so removed keys stop matching although the
 * filter still has their bits. Lean mode keeps only the Bloom filter and the keys added and removed since
 * the snapshot, for memory-short consumers that confirm hits with the hub; it cannot compute a checksum.
 */
import type { ExpressionBloom } from './bloom.ts';
import { confirmationKey } from './confirm.ts';
import { applyKeyChanges, containsKey, keySetChecksum } from './filter-keys.ts';
import { decodeFilterDelta, decodeFilterSnapshot } from './filter-payload.ts';
import { fail, ok, type Result } from './types.ts';

/** How a state is built from a snapshot. */
export interface FilterStateOptions {
  /** Keep no key set: hits are unconfirmed candidates (see {@link FilterState.matchingKeys}). */
  lean?: boolean;
}

/** A lean state was asked for something only the full key set can answer. */
export class LeanFilterStateError extends Error {
  override readonly name = 'LeanFilterStateError';
}

/** Snapshot plus deltas; immutable: {@link applyDelta} returns a new state sharing the Bloom filter. */
export class FilterState {
  private constructor(
    /** Confirmation key width. */
    readonly bits: number,
    /** Members, as distinct keys; in lean mode as announced by the snapshot and deltas. */
    readonly entryCount: number,
    private readonly bloom: ExpressionBloom,
    /** Full mode: the current sorted key set; lean mode: null. */
    private readonly keys: Float64Array | null,
    /** Keys added since the snapshot (the Bloom filter lacks them). */
    private readonly added: ReadonlySet<number>,
    /** Lean mode: keys removed since the snapshot; never shares a key with `added`. */
    private readonly removed: ReadonlySet<number>,
  ) {}

  /** A state from a snapshot payload; a failure when the payload is malformed. */
  static fromSnapshot(payload: Uint8Array, options: FilterStateOptions = {}): Result<FilterState> {
    const snapshot = decodeFilterSnapshot(payload);
    if (!snapshot.ok) return snapshot;
    const { bits, bloom, keys } = snapshot.value;
    return ok(new FilterState(bits, keys.length, bloom, options.lean ? null : keys, new Set(), new Set()));
  }

  /** Whether this state keeps no key set. */
  get lean(): boolean {
    return this.keys === null;
  }

  /**
   * The state after a delta payload, as a new state: this one is left untouched, so a consumer keeps its
   * last good state when the checksum check that follows fails. Fails with `resync_required` when the
   * delta's key width differs from the state's (the hub re-keyed the feed: fetch a snapshot).
   */
  applyDelta(payload: Uint8Array): Result<FilterState> {
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) return delta;
    const { bits, added, removed } = delta.value;
    if (bits !== this.bits) {
      return fail('resync_required', `delta has ${bits}-bit keys, the state ${this.bits}-bit ones`);
    }
    const nextAdded = new Set(this.added);
    const nextRemoved = new Set(this.removed);
    for (const key of removed) {
      nextAdded.delete(key);
      if (this.keys === null) nextRemoved.add(key);
    }
    for (const key of added) {
      nextRemoved.delete(key);
      nextAdded.add(key);
    }
    if (this.keys !== null) {
      const keys = applyKeyChanges(this.keys, added, removed);
      return ok(new FilterState(bits, keys.length, this.bloom, keys, nextAdded, nextRemoved));
    }
    const entryCount = this.entryCount + added.length - removed.length;
    if (entryCount < 0) return fail('resync_required', 'delta removes more keys than the state holds');
    return ok(new FilterState(bits, entryCount, this.bloom, null, nextAdded, nextRemoved));
  }

  /**
   * Whether any of the lookup expressions of a URL is a member. In lean mode a true is a candidate to
   * confirm with the hub. Allocates nothing; throws NonAsciiExpressionError for a non-ASCII expression.
   */
  isBlocked(expressions: readonly string[]): boolean {
    for (let i = 0; i < expressions.length; i++) {
      if (this.matches(expressions[i] as string)) return true;
    }
    return false;
  }

  /**
   * Distinct confirmation keys of the expressions that match, for the hub's hash search: confirmed
   * members in full mode, candidates for the hub to confirm in lean mode.
   */
  matchingKeys(expressions: readonly string[]): number[] {
    const found: number[] = [];
    for (const expression of expressions) {
      if (this.matches(expression)) {
        const key = confirmationKey(this.bloom.hash, this.bits);
        if (!found.includes(key)) found.push(key);
      }
    }
    return found;
  }

  /** Whether `key` is a member (full mode only: a lean state has no key set). */
  hasKey(key: number): boolean {
    if (this.keys === null) throw new LeanFilterStateError('a lean filter state cannot look up a key');
    return containsKey(this.keys, key);
  }

  /** Hex SHA-256 over the sorted key set, as the manifest announces; rejects in lean mode. */
  async checksum(): Promise<string> {
    if (this.keys === null)
      throw new LeanFilterStateError('a lean filter state keeps no key set to checksum');
    return keySetChecksum(this.keys);
  }

  /** Whether one expression matches; leaves its hash in `this.bloom.hash`. */
  private matches(expression: string): boolean {
    const bloom = this.bloom;
    const hit = bloom.has(expression);
    if (!hit && this.added.size === 0) return false;
    const key = confirmationKey(bloom.hash, this.bits);
    if (this.keys === null) return this.added.has(key) || (hit && !this.removed.has(key));
    return (hit || this.added.has(key)) && containsKey(this.keys, key);
  }
}
