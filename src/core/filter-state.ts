/**
 * A consumer's view of the `filter` feed: a snapshot's Bloom filter plus the deltas applied since.
 *
 * Full mode keeps the snapshot payload itself and nothing decoded beside it: the Bloom filter is a view of its
 * bit array, and a Bloom hit is confirmed in the Rice-coded keys of the expression's class through a sampled
 * index (filter-coded-keys.ts). Deltas change the key sets as an overlay of removed snapshot keys and added
 * keys (filter-key-set.ts), so removed keys stop matching although the filter still has their bits, and an
 * added key is confirmed by its head, tail and extension. The false-block bound holds at every version: every
 * added key counts as a Bloom element, and a delta that would take the elements past the snapshot's insert
 * capacity, or the bound past its target, is refused with `resync_required`.
 * Lean mode keeps only a copy of the Bloom filter and the key counts, for memory-short consumers that confirm
 * hits with the hub (a key removed since the snapshot stays a candidate); a key a delta adds goes into that
 * copy with its extension; it cannot compute a checksum.
 */
import { bloomRate, type KeyBloom } from './bloom.ts';
import {
  confirmationKey,
  FALSE_BLOCK_TARGET,
  falseBlockChance,
  isRootExpression,
  type KeyClass,
  type KeyWidths,
  keyExtension,
  keyTail,
  type PerClass,
  sameKeyWidths,
} from './confirm.ts';
import { anyExpressionMatches } from './expressions.ts';
import { keySourcesChecksum } from './filter-checksum.ts';
import { CodedKeys } from './filter-coded-keys.ts';
import { KeySet } from './filter-key-set.ts';
import { decodeFilterDelta, readFilterSnapshot } from './filter-payload.ts';
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

/** Snapshot plus deltas; immutable: {@link applyDelta} returns a new state. */
export class FilterState {
  /** The hash of the expression being looked up: one per state, so a lookup allocates nothing. */
  private readonly hash = new Uint32Array(4);

  private constructor(
    /** Key widths of the root and path classes. */
    readonly bits: KeyWidths,
    /** Keys per class (members; two expressions sharing a key count once). */
    readonly counts: PerClass<number>,
    private readonly bloom: KeyBloom,
    /** Elements put in the Bloom filter: the snapshot's and those deltas added since. */
    private readonly inserted: number,
    /** Elements the Bloom filter takes before the bound needs a new snapshot. */
    private readonly capacity: number,
    /** Full mode: the current key sets, over the snapshot payload's coded keys; lean mode: null. */
    private readonly keys: PerClass<KeySet> | null,
    /**
     * Whether the snapshot keeps the bound up to its insert capacity, so deltas are held to it; one whose widths
     * were forced narrower than the bound needs (tests, experiments) is not.
     */
    private readonly bounded: boolean,
  ) {}

  /**
   * A state from a snapshot payload; a failure when the payload is malformed. A full state keeps `payload`
   * (it must not change afterwards); a lean one copies its Bloom filter and keeps nothing else.
   */
  static fromSnapshot(payload: Uint8Array, options: FilterStateOptions = {}): Result<FilterState> {
    const snapshot = readFilterSnapshot(payload);
    if (!snapshot.ok) return snapshot;
    const { bits, bloom, classes, inserted, capacity } = snapshot.value;
    // Every gap is checked here, in lean mode too: a malformed payload is refused, never half used.
    const root = CodedKeys.open(classes.root, bits.root);
    if (!root.ok) return root;
    const path = CodedKeys.open(classes.path, bits.path);
    if (!path.ok) return path;
    const counts = { root: root.value.count, path: path.value.count };
    // The keys grown to the capacity in their mix (all root when there are none), as the snapshot was sized.
    const total = counts.root + counts.path;
    const full =
      total === 0
        ? { root: capacity, path: 0 }
        : { root: (counts.root * capacity) / total, path: (counts.path * capacity) / total };
    const bounded =
      falseBlockChance(full, bloomRate(bloom.size, bloom.hashCount, capacity), bits) < FALSE_BLOCK_TARGET;
    if (options.lean) {
      return ok(new FilterState(bits, counts, bloom.copy(), inserted, capacity, null, bounded));
    }
    const keys = { root: KeySet.of(root.value), path: KeySet.of(path.value) };
    return ok(new FilterState(bits, counts, bloom, inserted, capacity, keys, bounded));
  }

  /** Whether this state keeps no key set. */
  get lean(): boolean {
    return this.keys === null;
  }

  /** Members, as distinct keys of both classes. */
  get entryCount(): number {
    return this.counts.root + this.counts.path;
  }

  /** The Bloom filter's false-positive rate now, from the elements put in it. */
  get bloomFpr(): number {
    return bloomRate(this.bloom.size, this.bloom.hashCount, this.inserted);
  }

  /** The bound on the chance that a URL that is not listed is blocked by this state (confirm.ts). */
  get falseBlockBound(): number {
    return falseBlockChance(this.counts, this.bloomFpr, this.bits);
  }

  /**
   * The state after a delta payload, as a new state: this one is left untouched, so a consumer keeps its
   * last good state when the checksum check that follows fails. Fails with `resync_required` when the
   * delta's key widths differ from the state's (the hub re-keyed the feed), when it does not fit the key sets,
   * or when its keys would fill the Bloom filter past what the bound allows: fetch a snapshot.
   */
  applyDelta(payload: Uint8Array): Result<FilterState> {
    const delta = decodeFilterDelta(payload);
    if (!delta.ok) return delta;
    const { bits, added, removedRanks } = delta.value;
    if (!sameKeyWidths(bits, this.bits)) {
      return fail(
        'resync_required',
        `delta has key widths ${bits.root},${bits.path}, the state ${this.bits.root},${this.bits.path}`,
      );
    }
    const counts = {
      root: this.counts.root + added.root.keys.length - removedRanks.root.length,
      path: this.counts.path + added.path.keys.length - removedRanks.path.length,
    };
    const outOfRange = (cls: KeyClass) => {
      const ranks = removedRanks[cls];
      return ranks.length > 0 && (ranks[ranks.length - 1] as number) >= this.counts[cls];
    };
    if (outOfRange('root') || outOfRange('path')) {
      return fail('resync_required', 'delta removes keys the state does not hold');
    }
    let keys: PerClass<KeySet> | null = null;
    if (this.keys !== null) {
      const root = this.keys.root.apply(added.root, removedRanks.root);
      const path = this.keys.path.apply(added.path, removedRanks.path);
      if (root === null || path === null) return fail('resync_required', 'delta does not fit the key sets');
      keys = { root, path };
    }
    const addedCount = added.root.keys.length + added.path.keys.length;
    const inserted = this.inserted + addedCount;
    if (inserted > this.capacity) {
      return fail(
        'resync_required',
        `delta fills the Bloom filter to ${inserted} elements, past the snapshot's capacity ${this.capacity}`,
      );
    }
    // A full state confirms added keys in its key sets; a lean one has only the filter to hold them.
    let bloom = this.bloom;
    if (keys === null && addedCount > 0) {
      bloom = bloom.copy();
      for (const cls of ['root', 'path'] as const) {
        const { keys: heads, tails, extensions } = added[cls];
        for (let i = 0; i < heads.length; i++) {
          bloom.addKey(
            heads[i] as number,
            tails[i] as number,
            bits[cls],
            extensions[i] as number,
            cls === 'path',
          );
        }
      }
    }
    const next = new FilterState(bits, counts, bloom, inserted, this.capacity, keys, this.bounded);
    if (this.bounded && next.falseBlockBound >= FALSE_BLOCK_TARGET) {
      return fail(
        'resync_required',
        `delta takes the false-block bound to ${next.falseBlockBound.toExponential(2)}`,
      );
    }
    return ok(next);
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
    return anyExpressionMatches(url, this, this.counts.path > 0);
  }

  /**
   * Distinct key heads of the expressions that match, per class, for the hub's hash search:
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

  /**
   * Whether an expression of class `root` (else path) whose MurmurHash3 x86_128 is `hash` matches: the
   * lookup after hashing, for a caller that hashes expressions itself. Allocates nothing.
   */
  matchesHash(hash: Uint32Array, root: boolean): boolean {
    const bits = root ? this.bits.root : this.bits.path;
    const inBloom = this.bloom.hasHash(hash, bits, !root);
    const keys = this.keys;
    if (keys === null) return inBloom;
    const set = root ? keys.root : keys.path;
    if (!inBloom && !set.changed) return false;
    const head = confirmationKey(hash, bits);
    const tail = keyTail(hash, bits);
    if (inBloom && set.holdsSnapshotKey(head, tail)) return true;
    return set.changed && set.holdsAddedKey(head, tail, keyExtension(hash));
  }

  /** Whether the key head `key` is held in class `cls` (full mode only: a lean state has no key set). */
  hasKey(cls: KeyClass, key: number): boolean {
    if (this.keys === null) throw new LeanFilterStateError('a lean filter state cannot look up a key');
    return this.keys[cls].hasHead(key);
  }

  /**
   * The state checksum (see `keySetChecksum`), as the manifest announces it, read from the key sets as they
   * lie (streamed where the runtime can, filter-checksum.ts); rejects in lean mode.
   */
  async checksum(): Promise<string> {
    if (this.keys === null)
      throw new LeanFilterStateError('a lean filter state keeps no key set to checksum');
    return keySourcesChecksum(this.keys.root.reader(), this.keys.path.reader());
  }

  /**
   * Whether the expression `text.slice(start, end)`, of class root when `root`, matches; leaves its hash in
   * `this.hash`. A class without keys is answered before hashing (a domain-only feed never hashes the path
   * expressions of a URL).
   */
  matchesRange(text: string, start: number, end: number, root: boolean): boolean {
    if ((root ? this.counts.root : this.counts.path) === 0) return false;
    hashExpressionRange(text, start, end, this.hash);
    return this.matchesHash(this.hash, root);
  }
}
