/**
 * A consumer's view of the `filter` feed: a snapshot's Bloom filter plus the deltas applied since.
 *
 * Full mode keeps the current sorted key sets: a lookup is a Bloom hit (or a key added since the snapshot,
 * which the Bloom filter lacks) confirmed by binary search in the key set of the expression's class, so
 * removed keys stop matching although the filter still has their bits. Lean mode keeps only the Bloom filter
 * and the keys added and removed since the snapshot, for memory-short consumers that confirm hits with the
 * hub; it cannot compute a checksum.
 */
import type { ExpressionBloom } from './bloom.ts';
import {
  confirmationKey,
  isRootExpression,
  type KeyClass,
  type KeyWidths,
  type PerClass,
  sameKeyWidths,
} from './confirm.ts';
import { anyExpressionMatches } from './expressions.ts';
import { applyKeyChanges, type ClassKeys, containsKey, keyCount, keySetChecksum } from './filter-keys.ts';
import { decodeFilterDelta, decodeFilterSnapshot } from './filter-payload.ts';
import { hashExpressionRange } from './hash.ts';
import { fail, ok, type Result } from './types.ts';
import type { CanonicalUrl } from './url.ts';

/** How a state is built from a snapshot. */
export interface FilterStateOptions {
  /** Keep no key set: hits are unconfirmed candidates (see {@link FilterState.matchingKeys}). */
  lean?: boolean;
}

/** A lean state was asked for something only the full key sets can answer. */
export class LeanFilterStateError extends Error {
  override readonly name = 'LeanFilterStateError';
}

type KeySets = PerClass<ReadonlySet<number>>;

const NO_KEYS: KeySets = { root: new Set(), path: new Set() };

/** Snapshot plus deltas; immutable: {@link applyDelta} returns a new state sharing the Bloom filter. */
export class FilterState {
  /** The hash of the expression being looked up: one per state, so a lookup allocates nothing. */
  private readonly hash = new Uint32Array(4);
  /** Whether a delta added keys, which then must be looked up even without a Bloom hit. */
  private readonly anyAdded: boolean;
  /** Whether a path expression can match: false in full mode when the key set has no path key. */
  private readonly pathKeys: boolean;

  private constructor(
    /** Key widths of the root and path classes. */
    readonly bits: KeyWidths,
    /** Members, as distinct keys of both classes; in lean mode as announced by the snapshot and deltas. */
    readonly entryCount: number,
    private readonly bloom: ExpressionBloom,
    /** Full mode: the current sorted key sets; lean mode: null. */
    private readonly keys: ClassKeys | null,
    /** Keys added since the snapshot (the Bloom filter lacks them). */
    private readonly added: KeySets,
    /** Lean mode: keys removed since the snapshot; never shares a key with `added`. */
    private readonly removed: KeySets,
  ) {
    this.anyAdded = added.root.size + added.path.size > 0;
    this.pathKeys = keys === null || keys.path.length > 0;
  }

  /** A state from a snapshot payload; a failure when the payload is malformed. */
  static fromSnapshot(payload: Uint8Array, options: FilterStateOptions = {}): Result<FilterState> {
    const snapshot = decodeFilterSnapshot(payload);
    if (!snapshot.ok) return snapshot;
    const { bits, bloom, keys } = snapshot.value;
    return ok(new FilterState(bits, keyCount(keys), bloom, options.lean ? null : keys, NO_KEYS, NO_KEYS));
  }

  /** Whether this state keeps no key set. */
  get lean(): boolean {
    return this.keys === null;
  }

  /**
   * The state after a delta payload, as a new state: this one is left untouched, so a consumer keeps its
   * last good state when the checksum check that follows fails. Fails with `resync_required` when the
   * delta's key widths differ from the state's (the hub re-keyed the feed: fetch a snapshot).
   */
  applyDelta(payload: Uint8Array): Result<FilterState> {
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) return delta;
    const { bits, added, removed } = delta.value;
    if (!sameKeyWidths(bits, this.bits)) {
      return fail(
        'resync_required',
        `delta has key widths ${bits.root},${bits.path}, the state ${this.bits.root},${this.bits.path}`,
      );
    }
    const lean = this.keys === null;
    const step = (cls: KeyClass) => {
      const nextAdded = new Set(this.added[cls]);
      const nextRemoved = new Set(this.removed[cls]);
      for (const key of removed[cls]) {
        nextAdded.delete(key);
        if (lean) nextRemoved.add(key);
      }
      for (const key of added[cls]) {
        nextRemoved.delete(key);
        nextAdded.add(key);
      }
      return { added: nextAdded, removed: nextRemoved };
    };
    const root = step('root');
    const path = step('path');
    const nextAdded = { root: root.added, path: path.added };
    const nextRemoved = { root: root.removed, path: path.removed };
    if (this.keys !== null) {
      const keys = {
        root: applyKeyChanges(this.keys.root, added.root, removed.root),
        path: applyKeyChanges(this.keys.path, added.path, removed.path),
      };
      return ok(new FilterState(bits, keyCount(keys), this.bloom, keys, nextAdded, nextRemoved));
    }
    const entryCount = this.entryCount + keyCount(added) - keyCount(removed);
    if (entryCount < 0) return fail('resync_required', 'delta removes more keys than the state holds');
    return ok(new FilterState(bits, entryCount, this.bloom, null, nextAdded, nextRemoved));
  }

  /**
   * Whether any of the lookup expressions of a URL is a member. In lean mode a true is a candidate to
   * confirm with the hub. Allocates nothing; throws NonAsciiExpressionError for a non-ASCII expression.
   */
  isBlocked(expressions: readonly string[]): boolean {
    for (let i = 0; i < expressions.length; i++) {
      const expression = expressions[i] as string;
      if (this.matchesRange(expression, 0, expression.length, isRootExpression(expression))) return true;
    }
    return false;
  }

  /**
   * {@link isBlocked} of the lookup expressions of a canonical URL, without building them (see
   * `anyExpressionMatches`); a state without path keys looks up root expressions only.
   */
  isUrlBlocked(url: CanonicalUrl): boolean {
    return anyExpressionMatches(url, this, this.pathKeys);
  }

  /**
   * Distinct confirmation keys of the expressions that match, per class, for the hub's hash search:
   * confirmed members in full mode, candidates for the hub to confirm in lean mode.
   */
  matchingKeys(expressions: readonly string[]): PerClass<number[]> {
    const found = { root: [] as number[], path: [] as number[] };
    for (const expression of expressions) {
      const root = isRootExpression(expression);
      if (!this.matchesRange(expression, 0, expression.length, root)) continue;
      const key = confirmationKey(this.hash, root ? this.bits.root : this.bits.path);
      const list = root ? found.root : found.path;
      if (!list.includes(key)) list.push(key);
    }
    return found;
  }

  /** Whether `key` is a member of class `cls` (full mode only: a lean state has no key set). */
  hasKey(cls: KeyClass, key: number): boolean {
    if (this.keys === null) throw new LeanFilterStateError('a lean filter state cannot look up a key');
    return containsKey(this.keys[cls], key);
  }

  /** The state checksum (see `keySetChecksum`), as the manifest announces it; rejects in lean mode. */
  async checksum(): Promise<string> {
    if (this.keys === null)
      throw new LeanFilterStateError('a lean filter state keeps no key set to checksum');
    return keySetChecksum(this.keys);
  }

  /**
   * Whether the expression `text.slice(start, end)`, of class root when `root`, matches; leaves its hash in
   * `this.hash`. The Bloom probe stops at the first zero bit, and only a hit (or a state with added keys)
   * pays for the key.
   */
  matchesRange(text: string, start: number, end: number, root: boolean): boolean {
    const hash = this.hash;
    hashExpressionRange(text, start, end, hash);
    const hit = this.bloom.hasHash(hash);
    if (!hit && !this.anyAdded) return false;
    const key = confirmationKey(hash, root ? this.bits.root : this.bits.path);
    const added = root ? this.added.root : this.added.path;
    if (this.keys === null) {
      return added.has(key) || (hit && !(root ? this.removed.root : this.removed.path).has(key));
    }
    return (hit || added.has(key)) && containsKey(root ? this.keys.root : this.keys.path, key);
  }
}
